namespace FlashMall.Ops.Domain;

/// <summary>
/// A requested change of one switch. Applied at once where no approval is required; otherwise
/// pending until a different operator approves it. <see cref="Status"/> is a concurrency token,
/// so two approvals racing apply it once.
/// </summary>
internal sealed class SwitchChange
{
    public const int MaxReasonLength = 500;
    public const string Pending = "pending";
    public const string Applied = "applied";

    private SwitchChange()
    {
    }

    public Guid Id { get; private set; }
    public string Switch { get; private set; } = "";
    public bool Enabled { get; private set; }
    public string Reason { get; private set; } = "";
    public string Status { get; private set; } = Pending;
    public Guid RequestedBy { get; private set; }
    public DateTimeOffset RequestedAt { get; private set; }
    public Guid? ApprovedBy { get; private set; }
    public DateTimeOffset? AppliedAt { get; private set; }

    /// <summary>Applied at once, skipping the approval; shown unapproved until a different operator approves it afterwards.</summary>
    public bool Emergency { get; private set; }

    /// <summary>An emergency change applied without its approval yet.</summary>
    public bool AwaitsApproval => Status == Pending || (Emergency && ApprovedBy is null);

    public static SwitchChange Request(Guid id, string name, bool enabled, string reason, Guid by, DateTimeOffset now, bool emergency = false) =>
        new() { Id = id, Switch = name, Enabled = enabled, Reason = reason, RequestedBy = by, RequestedAt = now, Emergency = emergency };

    /// <summary>A second operator approves an emergency change after it was applied.</summary>
    public void ApproveAfterwards(Guid approvedBy) => ApprovedBy = approvedBy;

    public void Apply(Guid? approvedBy, DateTimeOffset now)
    {
        Status = Applied;
        ApprovedBy = approvedBy;
        AppliedAt = now;
    }
}

/// <summary>One line of the audit: a change requested or applied, with the switch's state before and after.</summary>
internal sealed class AuditEntry
{
    public const string Requested = "requested";
    public const string Applied = "applied";
    public const string Approved = "approved";

    private AuditEntry()
    {
    }

    public Guid Id { get; private set; }
    public DateTimeOffset At { get; private set; }
    public string Action { get; private set; } = "";
    public string Switch { get; private set; } = "";
    public bool Before { get; private set; }
    public bool After { get; private set; }
    public string Reason { get; private set; } = "";
    public Guid Actor { get; private set; }
    public Guid ChangeId { get; private set; }
    public Guid RequestedBy { get; private set; }
    public Guid? ApprovedBy { get; private set; }

    /// <summary>The change skipped the approval (<c>"emergency": true</c>).</summary>
    public bool Emergency { get; private set; }

    public static AuditEntry Of(Guid id, string action, SwitchChange change, bool before, Guid actor, DateTimeOffset now) => new()
    {
        Id = id, At = now, Action = action, Switch = change.Switch, Before = before, After = change.Enabled, Reason = change.Reason,
        Actor = actor, ChangeId = change.Id, RequestedBy = change.RequestedBy, ApprovedBy = change.ApprovedBy, Emergency = change.Emergency,
    };
}
