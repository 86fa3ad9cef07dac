using System.ComponentModel.DataAnnotations;

namespace FlashMall.Ops;

/// <summary><c>Ops:*</c>: how switch changes are approved and how fast nodes follow them.</summary>
internal sealed class OpsOptions
{
    public const string SectionName = "Ops";

    /// <summary>
    /// A change needs a second operator's approval before it applies. Unset: on in the
    /// Production environment, off elsewhere.
    /// </summary>
    public bool? RequireApproval { get; set; }

    /// <summary>How often each node re-reads the switches from the store (the fallback to, or the absence of, Redis pub/sub).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The <c>Retry-After</c> (seconds) on a 503 <c>degraded</c> while <c>noncore.shed</c> is on.</summary>
    [Range(1, 3600)]
    public int ShedRetryAfterSeconds { get; set; } = 30;
}
