namespace FlashMall.Contracts.Search;

/// <summary>
/// One shopper's search as the business archive keeps it (no engine internals, no personal data
/// beyond the user id); the log stamps its id and time.
/// </summary>
public sealed record SearchQueryRecord(string Text, Guid? CategoryId, string? Brand, string Sort, int Page, int Results, bool Degraded, Guid? UserId);

/// <summary>
/// Where the Search module drops each answered query for the business archive. <see cref="Record"/>
/// never blocks and never throws: it hands the query to a bounded in-memory queue and returns
/// (a full queue drops it). Optional: Search asks for it with <c>GetService</c>.
/// </summary>
public interface ISearchQueryLog
{
    /// <summary>Queues <paramref name="query"/> for the archive; false when it was dropped (queue full).</summary>
    bool Record(SearchQueryRecord query);
}
