namespace FlashMall.Ops.Domain;

/// <summary>A runtime switch: its state and who set it last.</summary>
internal sealed class Switch
{
    public const int MaxNameLength = 64;
    public const int MaxDescriptionLength = 300;

    private Switch()
    {
    }

    public string Name { get; private set; } = "";
    public bool Enabled { get; private set; }
    public string Description { get; private set; } = "";
    public DateTimeOffset UpdatedAt { get; private set; }
    public string UpdatedBy { get; private set; } = "";

    public static Switch Seed(string name, string description, DateTimeOffset now) =>
        new() { Name = name, Description = description, UpdatedAt = now, UpdatedBy = "system" };

    /// <summary>Known switches' descriptions follow the code: rewritten at start-up when they changed.</summary>
    public bool Describe(string description)
    {
        if (Description == description)
        {
            return false;
        }
        Description = description;
        return true;
    }

    public void Set(bool enabled, string by, DateTimeOffset now)
    {
        Enabled = enabled;
        UpdatedBy = by;
        UpdatedAt = now;
    }
}

/// <summary>The switches seeded at start-up, all off.</summary>
internal static class KnownSwitches
{
    public static readonly IReadOnlyList<(string Name, string Description)> All =
    [
        (Contracts.Ops.SwitchNames.NonCoreShed, "Refuse all non-core endpoints (browse lists, search, circle) with 503 degraded."),
        (Contracts.Ops.SwitchNames.CircleReadOnly, "Circle writes (posts, likes, comments, follows, reports) refused with 503 read_only; reads served."),
        (Contracts.Ops.SwitchNames.SearchCacheOnly, "Search and suggestions answered only from each node's cache of recent answers (X-Served-From: cache); anything else 503 degraded."),
    ];
}
