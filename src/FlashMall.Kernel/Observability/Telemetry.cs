using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FlashMall.Kernel.Observability;

/// <summary>
/// Names shared by every module's telemetry. Each module owns one <see cref="ActivitySource"/>
/// and one <see cref="Meter"/> named <c>FlashMall.&lt;Module&gt;</c>; the host subscribes to
/// <c>FlashMall.*</c>, so a new module's instruments are exported without touching the host.
/// Instruments carry bounded labels only (outcome, reason, engine, type) — never a user id.
/// </summary>
public static class Telemetry
{
    /// <summary>The prefix of every FlashMall meter and activity source.</summary>
    public const string Prefix = "FlashMall.";

    /// <summary>The kernel's own meter and activity source (messaging, exceptions).</summary>
    public const string KernelName = "FlashMall.Kernel";

    /// <summary>Spans of the message bus: one per event handed to a consumer, child of the trace that stored it.</summary>
    public static readonly ActivitySource Messaging = new("FlashMall.Messaging");

    /// <summary>The W3C <c>traceparent</c> of <paramref name="activity"/>, or null when there is none to carry (not recorded).</summary>
    public static string? TraceParentOf(Activity? activity) =>
        activity is { IdFormat: ActivityIdFormat.W3C, Recorded: true } ? activity.Id : null;

    /// <summary>The remote parent a stored <c>traceparent</c> names; default when absent or malformed.</summary>
    public static ActivityContext ParentFrom(string? traceParent) =>
        traceParent is { Length: > 0 } && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : default;
}

/// <summary>
/// The kernel's instruments: unhandled exceptions by type. Static, so the exception handler
/// (and tests) reach them without a container; the meter is exported like any <c>FlashMall.*</c> one.
/// </summary>
public static class KernelMetrics
{
    private static readonly Meter Meter = new(Telemetry.KernelName);

    /// <summary><c>flashmall.exceptions</c>: unhandled exceptions answered 500, by exception type.</summary>
    public static readonly Counter<long> Exceptions = Meter.CreateCounter<long>(
        "flashmall.exceptions", description: "Unhandled exceptions answered with 500, by exception type.");

    /// <summary>
    /// <c>flashmall.messaging.consumed</c>: events handed to consumers, by consumer and result
    /// (processed, failed). The consumer names are fixed in code, so the label set is bounded.
    /// </summary>
    public static readonly Counter<long> Consumed = Meter.CreateCounter<long>(
        "flashmall.messaging.consumed", description: "Integration events handed to consumers, by consumer and result.");

    /// <summary>Records an unhandled exception of this type.</summary>
    public static void RecordException(Exception exception) =>
        Exceptions.Add(1, new KeyValuePair<string, object?>("type", exception.GetType().FullName ?? exception.GetType().Name));
}
