using System.Diagnostics;
using System.Diagnostics.Metrics;
using FlashMall.Contracts.Catalog;

namespace FlashMall.Search.Domain;

/// <summary>
/// Wraps the engine adapter: every search and suggestion is a span (<c>FlashMall.Search</c>)
/// naming the engine and the node that answered, with its duration; searches are counted by
/// result (<c>hits</c>, <c>zero</c>, <c>error</c>) — the zero-result rate is zero over all — and
/// timed in <c>flashmall.search.duration</c>. Labels: engine and result only.
/// </summary>
internal sealed class TracedSearchIndex(ISearchIndex inner, string engine, string node) : ISearchIndex
{
    public const string Name = "FlashMall.Search";

    private static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);
    private static readonly Counter<long> Queries = Meter.CreateCounter<long>("flashmall.search.queries", unit: "{query}",
        description: "Searches answered by the engine, by engine and result (hits, zero, error); zero / all is the zero-result rate.");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram("flashmall.search.duration", unit: "s",
        description: "Time the search engine took to answer, by engine.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    public async Task<SearchResult> SearchAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        using var span = Start("search.query");
        var started = Stopwatch.GetTimestamp();
        var result = "error";
        try
        {
            var answer = await inner.SearchAsync(query, cancellationToken);
            result = answer.Total == 0 ? "zero" : "hits";
            span?.SetTag("flashmall.search.total", answer.Total);
            return answer;
        }
        catch (Exception ex)
        {
            span?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
        finally
        {
            var engineTag = new KeyValuePair<string, object?>("engine", engine);
            Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, engineTag);
            Queries.Add(1, engineTag, new KeyValuePair<string, object?>("result", result));
        }
    }

    public async Task<IReadOnlyList<string>> SuggestAsync(string prefix, int limit, CancellationToken cancellationToken)
    {
        using var span = Start("search.suggest");
        return await inner.SuggestAsync(prefix, limit, cancellationToken);
    }

    public Task UpsertAsync(IReadOnlyList<SearchableProduct> products, CancellationToken cancellationToken) => inner.UpsertAsync(products, cancellationToken);

    public Task DeleteAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken) => inner.DeleteAsync(productIds, cancellationToken);

    public Task<int> CountAsync(CancellationToken cancellationToken) => inner.CountAsync(cancellationToken);

    public Task<RebuildReport?> RebuildAsync(ICatalogReader catalog, CancellationToken cancellationToken) => inner.RebuildAsync(catalog, cancellationToken);

    private Activity? Start(string name)
    {
        var span = Source.StartActivity(name, ActivityKind.Client);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("db.system.name", engine);
            span.SetTag("server.address", node);
        }
        return span;
    }
}
