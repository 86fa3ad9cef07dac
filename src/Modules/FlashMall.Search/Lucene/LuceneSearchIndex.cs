using System.Diagnostics;
using System.Diagnostics.Metrics;
using FlashMall.Contracts.Catalog;
using FlashMall.Kernel.Persistence;
using FlashMall.Search.Domain;
using Lucene.Net.Analysis;
using Lucene.Net.Analysis.Cn.Smart;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Store;
using Lucene.Net.Util;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using LuceneDirectory = Lucene.Net.Store.Directory;

namespace FlashMall.Search.Lucene;

/// <summary>
/// The embedded search adapter: a Lucene.NET index on local disk, one <see cref="IndexWriter"/>
/// per process (this singleton), near-real-time readers through a <see cref="SearcherManager"/>
/// refreshed after every write, so a change is searchable when the write returns. Text is analysed
/// with SmartCn: Chinese is segmented into words with its dictionary (<c>华为手机</c> → <c>华为</c>
/// <c>手机</c>), Latin words are lower-cased and stemmed. A rebuild writes a new index folder and
/// swaps it in (the folder named in <c>current</c>); the old one answers until then.
/// </summary>
internal sealed partial class LuceneSearchIndex : ISearchIndex, IDisposable
{
    private const LuceneVersion Version = LuceneVersion.LUCENE_48;
    private const string PointerFile = "current";
    private const int MaxFacetValues = ICatalogProductSearch.MaxFacetValues;

    private readonly string _root;
    private readonly int _batchSize;
    private readonly ILogger<LuceneSearchIndex> _logger;
    private readonly Analyzer _analyzer = new SmartChineseAnalyzer(Version);
    /// <summary>Writes, the swap and the replay list are serialized by this gate; searches never wait for it.</summary>
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly SemaphoreSlim _rebuildGate = new(1, 1);
    private volatile Generation? _current;
    /// <summary>While a rebuild runs: the writes it must replay onto the new index before the swap.</summary>
    private List<Action<IndexWriter>>? _replay;
    private readonly long _compactBelowBytes;
    private readonly TimeSpan _compactAfter;
    /// <summary>1 while a merge to one segment waits or runs: a burst of writes schedules one.</summary>
    private int _compactionPending;
    private readonly CancellationTokenSource _disposing = new();

    public LuceneSearchIndex(IOptions<SearchOptions> options, IOptions<DataOptions> data, ILogger<LuceneSearchIndex> logger, IMeterFactory? meters = null)
    {
        _root = Path.GetFullPath(string.IsNullOrWhiteSpace(options.Value.Directory) ? Path.Combine(data.Value.FullPath, "search") : options.Value.Directory);
        _batchSize = options.Value.RebuildBatchSize;
        _compactBelowBytes = options.Value.CompactBelowMegabytes * 1024L * 1024L;
        _compactAfter = options.Value.CompactAfter;
        _logger = logger;
        meters?.Create(TracedSearchIndex.Name).CreateObservableGauge("flashmall.search.index.segments", () => _current is null ? 0 : SegmentCount(_current),
            unit: "{segment}", description: "Segments of the embedded (Lucene) index that searches read; every one is another term lookup per word and field.");
    }

    /// <summary>An index folder with its writer and its near-real-time searchers.</summary>
    private sealed class Generation(string name, LuceneDirectory directory, IndexWriter writer, SearcherManager searchers) : IDisposable
    {
        public string Name { get; } = name;
        public IndexWriter Writer { get; } = writer;
        public SearcherManager Searchers { get; } = searchers;

        public void Dispose()
        {
            Searchers.Dispose();
            Writer.Dispose();
            directory.Dispose();
        }
    }

    private Generation Current => _current ?? OpenCurrent();

    private Generation OpenCurrent()
    {
        _writeGate.Wait();
        try
        {
            if (_current is { } opened)
            {
                return opened;
            }
            System.IO.Directory.CreateDirectory(_root);
            var pointer = Path.Combine(_root, PointerFile);
            var name = File.Exists(pointer) ? File.ReadAllText(pointer).Trim() : "";
            if (name.Length == 0 || !System.IO.Directory.Exists(Path.Combine(_root, name)))
            {
                name = NewGenerationName();
                _current = Open(name, OpenMode.CREATE);
                _current.Writer.Commit();
                WritePointer(name);
            }
            else
            {
                _current = Open(name, OpenMode.CREATE_OR_APPEND);
            }
            LogOpened(_logger, Path.Combine(_root, name), _current.Writer.NumDocs);
            ScheduleCompaction();
            return _current;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private Generation Open(string name, OpenMode mode)
    {
        // NIOFSDirectory, not FSDirectory.Open's MMapDirectory: in Lucene.NET 4.8.0-beta00017 every clone of a
        // memory-mapped input (one per term, field and segment of every query) is registered in a
        // ConditionalWeakTable, and each entry is a dependent handle that every collection, gen0 included,
        // scans. Under a search flood that made gen0 pauses 8.6 ms on average, and the core waited in them
        // (docs/BENCHMARKS.md, "Load shedding", run 12). Positional file reads from the page cache cost less.
        var directory = new NIOFSDirectory(Path.Combine(_root, name));
        var writer = new IndexWriter(directory, new IndexWriterConfig(Version, _analyzer) { OpenMode = mode });
        return new Generation(name, directory, writer, new SearcherManager(writer, applyAllDeletes: true, searcherFactory: null));
    }

    private static string NewGenerationName() => $"index-{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Points <c>current</c> at the new folder atomically (write aside, then rename over).</summary>
    private void WritePointer(string name)
    {
        var pointer = Path.Combine(_root, PointerFile);
        File.WriteAllText(pointer + ".tmp", name);
        File.Move(pointer + ".tmp", pointer, overwrite: true);
    }

    public Task UpsertAsync(IReadOnlyList<SearchableProduct> products, CancellationToken cancellationToken)
    {
        var documents = products.Select(p => (Term: new Term(Fields.Id, p.Id.ToString()), Document: ToDocument(p))).ToList();
        return WriteAsync(writer =>
        {
            foreach (var (term, document) in documents)
            {
                writer.UpdateDocument(term, document);
            }
        }, cancellationToken);
    }

    public Task DeleteAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken)
    {
        var terms = productIds.Select(id => new Term(Fields.Id, id.ToString())).ToArray();
        return WriteAsync(writer => writer.DeleteDocuments(terms), cancellationToken);
    }

    /// <summary>Applies a write, commits it (durable before the event that caused it counts as processed) and refreshes the readers.</summary>
    private async Task WriteAsync(Action<IndexWriter> write, CancellationToken cancellationToken)
    {
        _ = Current;
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            var generation = _current!;
            write(generation.Writer);
            generation.Writer.Commit();
            generation.Searchers.MaybeRefreshBlocking();
            _replay?.Add(write);
        }
        finally
        {
            _writeGate.Release();
        }
        ScheduleCompaction();
    }

    /// <summary>The segments the current searcher reads.</summary>
    internal int SegmentCount() => SegmentCount(Current);

    private static int SegmentCount(Generation generation)
    {
        var searcher = generation.Searchers.Acquire();
        try
        {
            return searcher.IndexReader.Leaves.Count;
        }
        finally
        {
            generation.Searchers.Release(searcher);
        }
    }

    /// <summary>
    /// Every write commits a segment of its own, and each query looks every word up once per segment and field
    /// (a terms enumerator and its frames each time). A small index is merged back to one segment
    /// <see cref="SearchOptions.CompactAfter"/> after a write, once per burst; a large one keeps Lucene's merging.
    /// </summary>
    private void ScheduleCompaction()
    {
        if (_compactBelowBytes <= 0 || Interlocked.CompareExchange(ref _compactionPending, 1, 0) != 0)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(_compactAfter, _disposing.Token);
                // Under the write gate: writes and a rebuild's swap wait for the merge (it rewrites at most CompactBelowMegabytes).
                await _writeGate.WaitAsync(_disposing.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return; // the index is closing
            }
            try
            {
                // Writes from here on wait for the gate, then schedule the next merge themselves.
                Volatile.Write(ref _compactionPending, 0);
                Compact();
            }
            catch (Exception ex)
            {
                LogCompactionFailed(_logger, ex);
            }
            finally
            {
                _writeGate.Release();
            }
        });
    }

    private void Compact()
    {
        var generation = _current;
        if (generation is null)
        {
            return;
        }
        var segments = SegmentCount(generation);
        var bytes = new DirectoryInfo(Path.Combine(_root, generation.Name)).EnumerateFiles().Sum(file => file.Length);
        if (segments <= 1 || bytes > _compactBelowBytes)
        {
            return;
        }
        var started = Stopwatch.GetTimestamp();
        generation.Writer.ForceMerge(1);
        generation.Writer.Commit();
        generation.Searchers.MaybeRefreshBlocking();
        LogCompacted(_logger, segments, bytes / 1024, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    public Task<int> CountAsync(CancellationToken cancellationToken) => Task.FromResult(Current.Writer.NumDocs);

    public Task<SearchResult> SearchAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        var searchers = Current.Searchers;
        var searcher = searchers.Acquire();
        try
        {
            var lucene = BuildQuery(query);
            if (lucene is null)
            {
                return Task.FromResult(new SearchResult([], 0, [], []));
            }
            // One pass collects the page, the total and the facets. In document order: the
            // out-of-order boolean scorer allocates a table of 2,048 buckets per segment and query,
            // which under a search flood made most of the node's garbage (docs/BENCHMARKS.md, "Load shedding").
            var facets = new FacetCollector();
            var page = TopFieldCollector.Create(SortOf(query.Sort), Math.Max(1, Math.Min(query.Skip + query.Take, searcher.IndexReader.MaxDoc)), // a page past the end holds no queue
                fillFields: false, trackDocScores: false, trackMaxScore: false, docsScoredInOrder: true);
            searcher.Search(lucene, MultiCollector.Wrap(facets, page));
            var top = page.GetTopDocs();
            var hits = new List<SearchHit>(Math.Max(0, Math.Min(query.Take, top.ScoreDocs.Length - query.Skip)));
            for (var i = query.Skip; i < top.ScoreDocs.Length; i++)
            {
                hits.Add(ToHit(searcher.Doc(top.ScoreDocs[i].Doc)));
            }
            return Task.FromResult(new SearchResult(hits, facets.Total, facets.Categories(MaxFacetValues), facets.Brands(MaxFacetValues)));
        }
        finally
        {
            searchers.Release(searcher);
        }
    }

    public Task<IReadOnlyList<string>> SuggestAsync(string prefix, int limit, CancellationToken cancellationToken)
    {
        var text = prefix.Trim().ToLowerInvariant();
        if (text.Length == 0)
        {
            return Task.FromResult<IReadOnlyList<string>>([]);
        }
        // Whole names starting with the text, or names holding its words with the last one as a prefix.
        var query = new BooleanQuery { { new PrefixQuery(new Term(Fields.NameLower, text)), Occur.SHOULD } };
        var words = Analyze(Fields.Name, text);
        if (words.Count > 0)
        {
            var byWords = new BooleanQuery();
            foreach (var word in words.Take(words.Count - 1).Take(16))
            {
                byWords.Add(new TermQuery(new Term(Fields.Name, word)), Occur.MUST);
            }
            byWords.Add(new PrefixQuery(new Term(Fields.Name, words[^1])), Occur.MUST);
            query.Add(byWords, Occur.SHOULD);
        }
        var searchers = Current.Searchers;
        var searcher = searchers.Acquire();
        try
        {
            var collector = TopFieldCollector.Create(new Sort(new SortField(Fields.Sales, SortFieldType.INT64, true), new SortField(Fields.IdSort, SortFieldType.STRING)),
                limit * 4, fillFields: false, trackDocScores: false, trackMaxScore: false, docsScoredInOrder: true);
            searcher.Search(query, collector); // in document order, as SearchAsync
            var top = collector.GetTopDocs();
            var names = new List<string>(limit);
            foreach (var hit in top.ScoreDocs)
            {
                var name = searcher.Doc(hit.Doc).Get(Fields.Name);
                if (!names.Contains(name, StringComparer.Ordinal))
                {
                    names.Add(name);
                }
                if (names.Count == limit)
                {
                    break;
                }
            }
            return Task.FromResult<IReadOnlyList<string>>(names);
        }
        finally
        {
            searchers.Release(searcher);
        }
    }

    public async Task<RebuildReport?> RebuildAsync(ICatalogReader catalog, CancellationToken cancellationToken)
    {
        if (!await _rebuildGate.WaitAsync(0, cancellationToken))
        {
            return null;
        }
        Generation? building = null;
        try
        {
            var stopwatch = Stopwatch.StartNew();
            _ = Current;
            await _writeGate.WaitAsync(cancellationToken);
            _replay = [];
            _writeGate.Release();

            var name = NewGenerationName();
            building = Open(name, OpenMode.CREATE);
            var documents = 0;
            Guid? after = null;
            while (true)
            {
                var batch = await catalog.ReadPageAsync(after, _batchSize, cancellationToken);
                if (batch.Count == 0)
                {
                    break;
                }
                foreach (var product in batch)
                {
                    building.Writer.AddDocument(ToDocument(product));
                }
                documents += batch.Count;
                after = batch[^1].Id;
            }

            Generation old;
            await _writeGate.WaitAsync(cancellationToken);
            try
            {
                // Changes applied to the old index while this one was built: the same writes, in order.
                foreach (var write in _replay!)
                {
                    write(building.Writer);
                }
                building.Writer.Commit();
                building.Searchers.MaybeRefreshBlocking();
                WritePointer(name);
                old = _current!;
                _current = building;
                building = null;
                _replay = null;
            }
            finally
            {
                _writeGate.Release();
            }
            RetireLater(old);
            ScheduleCompaction();
            LogRebuilt(_logger, documents, stopwatch.ElapsedMilliseconds, name);
            return new RebuildReport(_current.Writer.NumDocs, stopwatch.Elapsed);
        }
        finally
        {
            if (building is not null)
            {
                await _writeGate.WaitAsync(CancellationToken.None);
                _replay = null;
                _writeGate.Release();
                building.Dispose();
                TryDelete(Path.Combine(_root, building.Name));
            }
            _rebuildGate.Release();
        }
    }

    /// <summary>Searches that acquired the old index's reader just before the swap finish on it; then it is closed and removed.</summary>
    private void RetireLater(Generation old) => _ = Task.Run(async () =>
    {
        await Task.Delay(TimeSpan.FromSeconds(5));
        old.Dispose();
        TryDelete(Path.Combine(_root, old.Name));
    });

    private void TryDelete(string folder)
    {
        try
        {
            System.IO.Directory.Delete(folder, recursive: true);
        }
        catch (IOException ex)
        {
            LogDeleteFailed(_logger, folder, ex);
        }
    }

    /// <summary>
    /// The user's words must each appear somewhere (name, brand, category names, attributes,
    /// description), the name counting most. Text is analysed, never parsed as query syntax, so
    /// quotes, colons, stars and operators are just punctuation. Null: nothing can match.
    /// </summary>
    private BooleanQuery? BuildQuery(SearchQuery query)
    {
        var all = new BooleanQuery();
        if (query.Text.Length > 0)
        {
            var words = Analyze(Fields.Name, query.Text);
            if (words.Count == 0)
            {
                return null;
            }
            foreach (var word in words.Distinct(StringComparer.Ordinal).Take(32))
            {
                var anyField = new BooleanQuery();
                foreach (var (field, boost) in Fields.Searched)
                {
                    anyField.Add(new TermQuery(new Term(field, word)) { Boost = boost }, Occur.SHOULD);
                }
                all.Add(anyField, Occur.MUST);
            }
        }
        else
        {
            all.Add(new MatchAllDocsQuery(), Occur.MUST);
        }
        if (query.CategoryId is { } category)
        {
            all.Add(Filter(new TermQuery(new Term(Fields.CategoryPath, category.ToString()))), Occur.MUST);
        }
        if (query.Brand is { } brand)
        {
            all.Add(Filter(new TermQuery(new Term(Fields.BrandExact, brand))), Occur.MUST);
        }
        if (query.PriceMin is not null || query.PriceMax is not null)
        {
            all.Add(Filter(NumericRangeQuery.NewInt64Range(Fields.PriceRange, query.PriceMin, query.PriceMax, true, true)), Occur.MUST);
        }
        return all;
    }

    /// <summary>A clause that narrows the matches without touching their relevance.</summary>
    private static ConstantScoreQuery Filter(Query query) => new(query) { Boost = 0f };

    private List<string> Analyze(string field, string text)
    {
        var words = new List<string>();
        using var stream = _analyzer.GetTokenStream(field, text);
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (stream.IncrementToken())
        {
            words.Add(term.ToString());
        }
        stream.End();
        return words;
    }

    /// <summary>Every order ends with the id, so equal keys always come back in one order and pages never overlap.</summary>
    private static Sort SortOf(SearchSort sort)
    {
        var byId = new SortField(Fields.IdSort, SortFieldType.STRING);
        return sort switch
        {
            SearchSort.PriceAscending => new Sort(new SortField(Fields.Price, SortFieldType.INT64), byId),
            SearchSort.PriceDescending => new Sort(new SortField(Fields.Price, SortFieldType.INT64, true), byId),
            SearchSort.Sales => new Sort(new SortField(Fields.Sales, SortFieldType.INT64, true), byId),
            SearchSort.Newest => new Sort(new SortField(Fields.Created, SortFieldType.INT64, true), byId),
            SearchSort.Stock => new Sort(new SortField(Fields.Stock, SortFieldType.INT64, true), byId),
            _ => new Sort(SortField.FIELD_SCORE, byId),
        };
    }

    private static Document ToDocument(SearchableProduct product)
    {
        var id = product.Id.ToString();
        var document = new Document
        {
            new StringField(Fields.Id, id, Field.Store.YES),
            new SortedDocValuesField(Fields.IdSort, new BytesRef(id)),
            new TextField(Fields.Name, product.Name, Field.Store.YES),
            new StringField(Fields.NameLower, product.Name.ToLowerInvariant(), Field.Store.NO),
            new TextField(Fields.Brand, product.Brand, Field.Store.NO),
            new StringField(Fields.BrandExact, product.Brand, Field.Store.YES),
            new SortedDocValuesField(Fields.BrandFacet, new BytesRef(product.Brand)),
            new SortedDocValuesField(Fields.CategoryFacet, new BytesRef(product.CategoryId.ToString())),
            new TextField(Fields.CategoryNames, string.Join(' ', product.CategoryNames), Field.Store.NO),
            new TextField(Fields.Attributes, string.Join(' ', product.Attributes), Field.Store.NO),
            new TextField(Fields.Description, product.Description, Field.Store.NO),
            new Int64Field(Fields.PriceRange, product.Price, Field.Store.NO),
            new NumericDocValuesField(Fields.Price, product.Price),
            new StoredField(Fields.Price, product.Price),
            new NumericDocValuesField(Fields.Sales, product.Sales),
            new StoredField(Fields.Sales, product.Sales),
            new NumericDocValuesField(Fields.Stock, product.Stock),
            new StoredField(Fields.Stock, product.Stock),
            new NumericDocValuesField(Fields.Created, product.CreatedAt.UtcTicks),
            new StoredField(Fields.OnSale, product.OnSale ? 1 : 0),
        };
        foreach (var category in product.CategoryPath)
        {
            document.Add(new StringField(Fields.CategoryPath, category.ToString(), Field.Store.NO));
        }
        if (product.ImageUrl is { } image)
        {
            document.Add(new StoredField(Fields.Image, image));
        }
        return document;
    }

    private static SearchHit ToHit(Document document) => new(
        Guid.Parse(document.Get(Fields.Id)),
        document.Get(Fields.Name),
        document.GetField(Fields.Price).GetInt64Value() ?? 0,
        document.Get(Fields.Image),
        document.GetField(Fields.Sales).GetInt64Value() ?? 0,
        document.Get(Fields.BrandExact),
        document.GetField(Fields.Stock).GetInt32Value() ?? 0,
        document.GetField(Fields.OnSale).GetInt32Value() == 1);

    public void Dispose()
    {
        _disposing.Cancel();
        // A merge that is running holds the gate: wait for it before closing the writer under it.
        _writeGate.Wait();
        _writeGate.Release();
        _current?.Dispose();
        _analyzer.Dispose();
        _writeGate.Dispose();
        _rebuildGate.Dispose();
        _disposing.Dispose();
    }

    private static class Fields
    {
        public const string Id = "id";
        public const string IdSort = "id_sort";
        public const string Name = "name";
        public const string NameLower = "name_lc";
        public const string Brand = "brand";
        public const string BrandExact = "brand_exact";
        public const string BrandFacet = "brand_facet";
        public const string CategoryPath = "category_path";
        public const string CategoryFacet = "category_facet";
        public const string CategoryNames = "category_names";
        public const string Attributes = "attributes";
        public const string Description = "description";
        public const string PriceRange = "price_range";
        public const string Price = "price";
        public const string Sales = "sales";
        public const string Stock = "stock";
        public const string Created = "created";
        public const string OnSale = "on_sale";
        public const string Image = "image";

        /// <summary>Where the words are looked for, and how much a match there counts: the name most.</summary>
        public static readonly (string Field, float Boost)[] Searched =
            [(Name, 5f), (Brand, 3f), (CategoryNames, 2f), (Attributes, 1.5f), (Description, 1f)];
    }

    /// <summary>Counts every match (the total) and the matches per leaf category and per brand, from doc values.</summary>
    private sealed class FacetCollector : ICollector
    {
        private readonly Dictionary<string, int> _categories = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _brands = new(StringComparer.Ordinal);
        private SortedDocValues? _categoryValues;
        private SortedDocValues? _brandValues;
        private int[] _categoryCounts = [];
        private int[] _brandCounts = [];

        public int Total { get; private set; }

        /// <summary>In order: see <see cref="SearchAsync"/>.</summary>
        public bool AcceptsDocsOutOfOrder => false;

        public void SetScorer(Scorer scorer)
        {
        }

        public void SetNextReader(AtomicReaderContext context)
        {
            Flush();
            _categoryValues = context.AtomicReader.GetSortedDocValues(Fields.CategoryFacet);
            _brandValues = context.AtomicReader.GetSortedDocValues(Fields.BrandFacet);
            _categoryCounts = new int[_categoryValues?.ValueCount ?? 0];
            _brandCounts = new int[_brandValues?.ValueCount ?? 0];
        }

        public void Collect(int doc)
        {
            Total++;
            if (_categoryValues?.GetOrd(doc) is >= 0 and var category)
            {
                _categoryCounts[category]++;
            }
            if (_brandValues?.GetOrd(doc) is >= 0 and var brand)
            {
                _brandCounts[brand]++;
            }
        }

        /// <summary>Segment ordinals → values, once per segment rather than per document.</summary>
        private void Flush()
        {
            Accumulate(_categoryValues, _categoryCounts, _categories);
            Accumulate(_brandValues, _brandCounts, _brands);
        }

        private static void Accumulate(SortedDocValues? values, int[] counts, Dictionary<string, int> into)
        {
            if (values is null)
            {
                return;
            }
            var bytes = new BytesRef();
            for (var ord = 0; ord < counts.Length; ord++)
            {
                if (counts[ord] > 0)
                {
                    values.LookupOrd(ord, bytes);
                    var key = bytes.Utf8ToString();
                    into[key] = into.GetValueOrDefault(key) + counts[ord];
                }
            }
        }

        public IReadOnlyList<FacetCount> Categories(int limit) => Top(_categories, limit);

        public IReadOnlyList<FacetCount> Brands(int limit) => Top(_brands, limit);

        private IReadOnlyList<FacetCount> Top(Dictionary<string, int> counts, int limit)
        {
            Flush();
            _categoryValues = null;
            _brandValues = null;
            return [.. counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(limit).Select(c => new FacetCount(c.Key, c.Value))];
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Search index {Folder} open with {Documents} documents")]
    private static partial void LogOpened(ILogger logger, string folder, int documents);

    [LoggerMessage(Level = LogLevel.Information, Message = "Search index rebuilt: {Documents} documents in {ElapsedMs} ms, now serving {Generation}")]
    private static partial void LogRebuilt(ILogger logger, int documents, long elapsedMs, string generation);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Search index merged from {Segments} segments ({Kilobytes} KB) to one in {ElapsedMs} ms")]
    private static partial void LogCompacted(ILogger logger, int segments, long kilobytes, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not merge the search index to one segment; searches go on reading its segments")]
    private static partial void LogCompactionFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the retired search index folder {Folder}")]
    private static partial void LogDeleteFailed(ILogger logger, string folder, Exception exception);
}
