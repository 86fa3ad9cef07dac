using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FlashMall.Contracts.Catalog;
using FlashMall.Search.Domain;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace FlashMall.Search.Sphinx;

/// <summary>
/// The production search adapter: a real-time index on a Sphinx (2.2, or Manticore) server,
/// spoken to in SphinxQL over the MySQL protocol; the engine's distributed indexes spread it over
/// several servers. The index is declared in the server's configuration
/// (deploy/sphinx/sphinx.conf.example). Documents are keyed by a 63-bit hash of the product id;
/// the id itself is the string attribute <c>pid</c>, the last key of every order, as on Lucene.
/// Sphinx 2.2 has no Chinese dictionary: CJK characters are one-character n-grams and each run of
/// Chinese in the query is matched as a phrase (its characters adjacent).
/// </summary>
internal sealed partial class SphinxSearchIndex(IOptions<SearchOptions> options, ILogger<SphinxSearchIndex> logger) : ISearchIndex, IDisposable
{
    private const int MaxFacetValues = ICatalogProductSearch.MaxFacetValues;
    private const int MaxWindow = 100_000;
    private const string Weights = "field_weights = (name = 5, brand = 3, category_names = 2, attributes = 2, description = 1)";

    private readonly string _connectionString = options.Value.ConnectionString ?? "";
    private readonly string _index = options.Value.SphinxIndex;
    private readonly int _batchSize = options.Value.RebuildBatchSize;
    private readonly SemaphoreSlim _rebuildGate = new(1, 1);
    /// <summary>While a rebuild runs: the products this node's consumers wrote, which the rebuild may have overwritten with an older read.</summary>
    private volatile ConcurrentDictionary<Guid, byte>? _touched;

    private async Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new MySqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (MySqlException ex)
        {
            await connection.DisposeAsync();
            throw new SearchUnavailableException("The Sphinx server does not answer.", ex);
        }
    }

    public async Task UpsertAsync(IReadOnlyList<SearchableProduct> products, CancellationToken cancellationToken)
    {
        if (products.Count == 0)
        {
            return;
        }
        await using var connection = await OpenAsync(cancellationToken);
        await ReplaceAsync(connection, products, cancellationToken);
        Touch(products.Select(p => p.Id));
    }

    private void Touch(IEnumerable<Guid> productIds)
    {
        if (_touched is { } touched)
        {
            foreach (var id in productIds)
            {
                touched.TryAdd(id, 0);
            }
        }
    }

    private async Task ReplaceAsync(MySqlConnection connection, IReadOnlyList<SearchableProduct> products, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder($"REPLACE INTO {_index} (id, name, brand, category_names, attributes, description, pid, title, brand_value, category, image, "
            + "brand_key, category_key, category_path, price, sales, stock, created, on_sale) VALUES ");
        for (var i = 0; i < products.Count; i++)
        {
            var p = products[i];
            sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"({Key(p.Id)}, ")
                .AppendJoin(", ", new[]
                {
                    p.Name, p.Brand, string.Join(' ', p.CategoryNames), string.Join(' ', p.Attributes), p.Description,
                    p.Id.ToString(), p.Name, p.Brand, p.CategoryId.ToString(), p.ImageUrl ?? "",
                }.Select(Literal))
                .Append(CultureInfo.InvariantCulture, $", {Key(p.Brand)}, {Key(p.CategoryId.ToString())}, (")
                .AppendJoin(',', p.CategoryPath.Select(c => Key(c.ToString())))
                .Append(CultureInfo.InvariantCulture, $"), {p.Price}, {p.Sales}, {p.Stock}, {p.CreatedAt.UtcTicks}, {(p.OnSale ? 1 : 0)})");
        }
        await using var command = connection.CreateCommand();
        command.CommandText = sql.ToString();
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task DeleteAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken)
    {
        if (productIds.Count == 0)
        {
            return;
        }
        await using var connection = await OpenAsync(cancellationToken);
        await DeleteKeysAsync(connection, [.. productIds.Select(id => Key(id))], cancellationToken);
        Touch(productIds);
    }

    private async Task DeleteKeysAsync(MySqlConnection connection, IReadOnlyList<long> keys, CancellationToken cancellationToken)
    {
        foreach (var chunk in keys.Chunk(500))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"DELETE FROM {_index} WHERE id IN ({string.Join(',', chunk)})";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task<int> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT id FROM {_index} LIMIT 1";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
            }
        }
        return await TotalFoundAsync(connection, cancellationToken);
    }

    public async Task<SearchResult> SearchAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        var words = SphinxText.Words(query.Text);
        if (query.Text.Length > 0 && words.Count == 0)
        {
            return new SearchResult([], 0, [], []);
        }
        var where = Where(words, query, prefixLast: false);
        await using var connection = await OpenAsync(cancellationToken);

        // Sphinx keeps max_matches rows in memory: a page deeper than any shopper goes is answered with the total and no items.
        var window = query.Skip + query.Take;
        var (offset, take) = window <= MaxWindow ? (query.Skip, query.Take) : (0, 1);
        var hits = new List<SearchHit>(query.Take);
        await using (var command = Command(connection,
            $"SELECT pid, title, price, image, sales, brand_value, stock, on_sale FROM {_index} {where} ORDER BY {OrderOf(query.Sort)} "
            + $"LIMIT {offset}, {take} OPTION max_matches = {Math.Clamp(window, 1000, MaxWindow)}, ranker = proximity_bm25, {Weights}"))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                hits.Add(new SearchHit(Guid.Parse(reader.GetString(0)), reader.GetString(1), reader.GetInt64(2),
                    reader.GetString(3) is { Length: > 0 } image ? image : null, reader.GetInt64(4), reader.GetString(5),
                    (int)reader.GetInt64(6), Convert.ToInt64(reader.GetValue(7), CultureInfo.InvariantCulture) == 1));
            }
        }
        if (window > MaxWindow)
        {
            hits.Clear();
        }
        var total = await TotalFoundAsync(connection, cancellationToken);
        var categories = await FacetAsync(connection, "category", "category_key", where, cancellationToken);
        var brands = await FacetAsync(connection, "brand_value", "brand_key", where, cancellationToken);
        return new SearchResult(hits, total, categories, brands);
    }

    /// <summary>Groups the matches by a hashed key and reads the value from a row of each group (2.2 groups strings unevenly).</summary>
    private async Task<IReadOnlyList<FacetCount>> FacetAsync(
        MySqlConnection connection, string valueColumn, string keyColumn, string where, CancellationToken cancellationToken)
    {
        var counts = new List<FacetCount>();
        await using var command = Command(connection,
            $"SELECT {valueColumn}, COUNT(*) AS n FROM {_index} {where} GROUP BY {keyColumn} ORDER BY n DESC LIMIT 1000 OPTION max_matches = 1000");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add(new FacetCount(reader.GetString(0), (int)reader.GetInt64(1)));
        }
        return [.. counts.OrderByDescending(c => c.Count).ThenBy(c => c.Value, StringComparer.Ordinal).Take(MaxFacetValues)];
    }

    public async Task<IReadOnlyList<string>> SuggestAsync(string prefix, int limit, CancellationToken cancellationToken)
    {
        var words = SphinxText.Words(prefix);
        if (words.Count == 0)
        {
            return [];
        }
        var where = Where(words, null, prefixLast: true);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"SELECT title FROM {_index} {where} ORDER BY sales DESC, pid ASC LIMIT {limit * 4} OPTION max_matches = {Math.Max(limit * 4, 1000)}");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var names = new List<string>(limit);
        while (await reader.ReadAsync(cancellationToken) && names.Count < limit)
        {
            var name = reader.GetString(0);
            if (!names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
        }
        return names;
    }

    /// <summary>
    /// Rewrites every catalog product in place (the index keeps answering), then deletes the
    /// documents the catalog no longer has. 2.2 cannot swap one real-time index for another at
    /// run time, so "build and swap" becomes "overwrite, then remove the rest". Products this
    /// node's consumers wrote meanwhile are read again and written last (the rebuild's read of
    /// them may be older); documents created shortly before the rebuild began are never removed
    /// as stale (their page may have been read before they were committed).
    /// </summary>
    public async Task<RebuildReport?> RebuildAsync(ICatalogReader catalog, CancellationToken cancellationToken)
    {
        if (!await _rebuildGate.WaitAsync(0, cancellationToken))
        {
            return null;
        }
        _touched = new ConcurrentDictionary<Guid, byte>();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            var keepCreatedAfter = DateTimeOffset.UtcNow.AddMinutes(-1).UtcTicks;
            await using var connection = await OpenAsync(cancellationToken);
            var kept = new HashSet<long>();
            Guid? after = null;
            while (true)
            {
                var batch = await catalog.ReadPageAsync(after, _batchSize, cancellationToken);
                if (batch.Count == 0)
                {
                    break;
                }
                foreach (var chunk in batch.Chunk(200))
                {
                    await ReplaceAsync(connection, chunk, cancellationToken);
                }
                kept.UnionWith(batch.Select(p => Key(p.Id)));
                after = batch[^1].Id;
            }

            var touched = _touched.Keys.ToList();
            if (touched.Count > 0)
            {
                var fresh = await catalog.FindAsync(touched, cancellationToken);
                foreach (var chunk in fresh.Chunk(200))
                {
                    await ReplaceAsync(connection, chunk, cancellationToken);
                }
                var gone = touched.Except(fresh.Select(p => p.Id)).Select(id => Key(id)).ToList();
                await DeleteKeysAsync(connection, gone, cancellationToken);
                kept.UnionWith(fresh.Select(p => Key(p.Id)));
                kept.ExceptWith(gone);
            }

            var stale = new List<long>();
            long last = 0;
            while (true)
            {
                var page = new List<(long Id, long Created)>();
                await using (var command = Command(connection, $"SELECT id, created FROM {_index} WHERE id > {last} ORDER BY id ASC LIMIT 1000"))
                {
                    await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        page.Add((Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture)));
                    }
                }
                if (page.Count == 0)
                {
                    break;
                }
                stale.AddRange(page.Where(d => !kept.Contains(d.Id) && d.Created < keepCreatedAfter).Select(d => d.Id));
                last = page[^1].Id;
            }
            await DeleteKeysAsync(connection, stale, cancellationToken);
            LogRebuilt(logger, kept.Count, stale.Count, stopwatch.ElapsedMilliseconds);
            return new RebuildReport(kept.Count, stopwatch.Elapsed);
        }
        finally
        {
            _touched = null;
            _rebuildGate.Release();
        }
    }

    private static string Where(List<SphinxWord> words, SearchQuery? query, bool prefixLast)
    {
        var clauses = new List<string>();
        if (words.Count > 0)
        {
            var match = prefixLast ? "@name " + SphinxText.Match(words, prefixLast: true) : SphinxText.Match(words, prefixLast: false);
            clauses.Add($"MATCH({Literal(match)})");
        }
        if (query?.CategoryId is { } category)
        {
            clauses.Add($"category_path = {Key(category.ToString())}");
        }
        if (query?.Brand is { } brand)
        {
            clauses.Add($"brand_key = {Key(brand)}");
        }
        if (query?.PriceMin is { } min)
        {
            clauses.Add(string.Create(CultureInfo.InvariantCulture, $"price >= {min}"));
        }
        if (query?.PriceMax is { } max)
        {
            clauses.Add(string.Create(CultureInfo.InvariantCulture, $"price <= {max}"));
        }
        return clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses);
    }

    /// <summary>
    /// A SphinxQL string literal. Sphinx reads backslash escapes only (not SQL's doubled quote,
    /// which is what MySqlConnector's parameters send), so values are written inline, escaped here.
    /// </summary>
    private static string Literal(string value) => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    private static MySqlCommand Command(MySqlConnection connection, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    /// <summary>Every order ends with the product id, so equal keys keep one order and pages never overlap.</summary>
    private static string OrderOf(SearchSort sort) => sort switch
    {
        SearchSort.PriceAscending => "price ASC, pid ASC",
        SearchSort.PriceDescending => "price DESC, pid ASC",
        SearchSort.Sales => "sales DESC, pid ASC",
        SearchSort.Newest => "created DESC, pid ASC",
        SearchSort.Stock => "stock DESC, pid ASC",
        _ => "WEIGHT() DESC, pid ASC",
    };

    private static async Task<int> TotalFoundAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SHOW META";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.GetString(0) == "total_found")
            {
                return int.Parse(reader.GetString(1), CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    /// <summary>A positive 63-bit key for a document id, a brand or a category (hash collisions: one in 2^63 per pair).</summary>
    internal static long Key(Guid id) => Key(id.ToString());

    internal static long Key(string value)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(value), hash);
        var key = BitConverter.ToInt64(hash) & long.MaxValue;
        return key == 0 ? 1 : key;
    }

    public void Dispose() => _rebuildGate.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Sphinx index rebuilt: {Documents} documents written, {Removed} stale removed, in {ElapsedMs} ms")]
    private static partial void LogRebuilt(ILogger logger, int documents, int removed, long elapsedMs);
}

/// <summary>A word of a query: Latin/Cyrillic letters and digits, or a run of Chinese characters (matched as a phrase).</summary>
internal readonly record struct SphinxWord(string Text, bool Chinese);

/// <summary>
/// Turns user text into SphinxQL full-text syntax that cannot be anything else: only words
/// survive (every operator character is a separator), Chinese runs are quoted as phrases.
/// </summary>
internal static class SphinxText
{
    public static List<SphinxWord> Words(string text)
    {
        var words = new List<SphinxWord>();
        var current = new StringBuilder();
        var chinese = false;
        void Flush()
        {
            if (current.Length > 0 && words.Count < 32)
            {
                words.Add(new SphinxWord(current.ToString(), chinese));
            }
            current.Clear();
        }
        foreach (var rune in text.EnumerateRunes())
        {
            var isChinese = IsChinese(rune.Value);
            var isWord = !isChinese && (Rune.IsLetterOrDigit(rune) && (rune.Value < 0x250 || rune.Value is >= 0x400 and <= 0x4FF));
            if (!isChinese && !isWord)
            {
                Flush();
                continue;
            }
            if (current.Length > 0 && isChinese != chinese)
            {
                Flush();
            }
            chinese = isChinese;
            current.Append(Rune.ToLowerInvariant(rune).ToString());
        }
        Flush();
        return words;
    }

    public static string Match(IReadOnlyList<SphinxWord> words, bool prefixLast) => string.Join(' ', words.Select((w, i) =>
        w.Chinese ? $"\"{w.Text}\"" : prefixLast && i == words.Count - 1 ? w.Text + "*" : w.Text));

    private static bool IsChinese(int c) => c is (>= 0x3400 and <= 0x4DBF) or (>= 0x4E00 and <= 0x9FFF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x20000 and <= 0x2FA1F);
}
