namespace FlashMall.Contracts.Ops;

/// <summary>
/// Runtime switches operators flip through <c>/api/admin/switches</c>, answered from this node's
/// in-memory snapshot (synchronous, no allocation, no I/O): safe on every request's hot path.
/// The snapshot follows a change within a second (Redis pub/sub, else polling the store).
/// An unknown name is off.
/// </summary>
public interface ISwitches
{
    bool IsOn(string name);
}

/// <summary>The switches every node knows (seeded off at start-up).</summary>
public static class SwitchNames
{
    /// <summary>Every non-core endpoint answers 503 <c>degraded</c> with <c>Retry-After</c>.</summary>
    public const string NonCoreShed = "noncore.shed";

    /// <summary>Circle writes answer 503 <c>read_only</c>; reads are served.</summary>
    public const string CircleReadOnly = "circle.readonly";

    /// <summary>Search answers only from its cache of recent answers.</summary>
    public const string SearchCacheOnly = "search.cache_only";
}
