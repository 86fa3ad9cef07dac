using System.Diagnostics;
using System.Diagnostics.Metrics;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlashMall.Kernel.Observability;

/// <summary>
/// Carries the W3C trace context of the request (or consumer, or job) that stored an event to
/// whoever consumes it, on every transport, with no schema change: the stored payload opens
/// with a <c>"_traceparent"</c> member (the event's own members follow; consumers' JSON reading
/// ignores unknown members). The RabbitMQ transport also puts it in the message's
/// <c>traceparent</c> header for tools that look there.
/// </summary>
public static class TraceEnvelope
{
    private const string Opening = "{\"_traceparent\":\"";

    /// <summary>The payload to store: <paramref name="json"/> (an object) with the trace parent first, or unchanged when there is none.</summary>
    public static string Stamp(string json, string? traceParent)
    {
        if (traceParent is null || json.Length < 2 || json[0] != '{' || traceParent.Contains('"', StringComparison.Ordinal))
        {
            return json;
        }
        return json.Length == 2
            ? string.Concat(Opening, traceParent, "\"}")
            : string.Concat(Opening, traceParent, "\",", json.AsSpan(1));
    }

    /// <summary>The <c>traceparent</c> a stored payload carries, or null.</summary>
    public static string? TraceParentOf(string payload)
    {
        if (!payload.StartsWith(Opening, StringComparison.Ordinal))
        {
            return null;
        }
        var end = payload.IndexOf('"', Opening.Length);
        return end > Opening.Length ? payload[Opening.Length..end] : null;
    }

    /// <summary>
    /// Starts the consumer's span for one event, child of the trace that stored it; null when
    /// nobody listens (telemetry off) — then it costs one check.
    /// </summary>
    public static Activity? StartConsume(IntegrationEventSubscription subscription, Guid messageId, string payload)
    {
        if (!Telemetry.Messaging.HasListeners())
        {
            return null;
        }
        var activity = Telemetry.Messaging.StartActivity(
            "process " + subscription.Consumer, ActivityKind.Consumer, Telemetry.ParentFrom(TraceParentOf(payload)));
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.consumer.group.name", subscription.Consumer);
            activity.SetTag("messaging.message.id", messageId.ToString());
            activity.SetTag("flashmall.event.type", subscription.EventType);
        }
        return activity;
    }
}

/// <summary>
/// Samples every module's outbox every <see cref="Interval"/> (one count query per module) for
/// the gauges <c>flashmall.outbox.backlog</c> (unsent, not dead-lettered) and
/// <c>flashmall.outbox.dead_letters</c>, labelled by module. A scrape reads the last sample and
/// never touches the database.
/// </summary>
internal sealed partial class OutboxBacklogSampler : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly IServiceScopeFactory _scopes;
    private readonly IEnumerable<ModuleDbContextRegistration> _modules;
    private readonly ILogger<OutboxBacklogSampler> _logger;
    private volatile Dictionary<string, (long Backlog, long DeadLetters)> _last = new(StringComparer.Ordinal);

    public OutboxBacklogSampler(IServiceScopeFactory scopes, IEnumerable<ModuleDbContextRegistration> modules, IMeterFactory meters, ILogger<OutboxBacklogSampler> logger)
    {
        _scopes = scopes;
        _modules = modules;
        _logger = logger;
        var meter = meters.Create(Telemetry.KernelName);
        meter.CreateObservableGauge("flashmall.outbox.backlog", () => Read(s => s.Backlog),
            description: "Outbox messages not yet delivered (and not dead-lettered), by module.");
        meter.CreateObservableGauge("flashmall.outbox.dead_letters", () => Read(s => s.DeadLetters),
            description: "Dead-lettered outbox messages waiting for an operator, by module.");
    }

    private IEnumerable<Measurement<long>> Read(Func<(long Backlog, long DeadLetters), long> pick) =>
        _last.Select(m => new Measurement<long>(pick(m.Value), new KeyValuePair<string, object?>("module", m.Key)));

    /// <summary>Counts now (also called by tests so a scrape right after an action sees it).</summary>
    internal async Task SampleAsync(CancellationToken cancellationToken)
    {
        var next = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        await using var scope = _scopes.CreateAsyncScope();
        foreach (var (db, schema) in _modules.Holding<OutboxMessage>(scope.ServiceProvider))
        {
            var outbox = db.Set<OutboxMessage>().AsNoTracking();
            next[schema] = (await outbox.LongCountAsync(m => m.SentAt == null && m.DeadLetteredAt == null, cancellationToken),
                await outbox.LongCountAsync(m => m.DeadLetteredAt != null, cancellationToken));
        }
        _last = next;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SampleAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogSampleFailed(_logger, ex);
            }
            await Task.Delay(Interval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Counting the outbox backlog failed; the gauges keep their last value")]
    private static partial void LogSampleFailed(ILogger logger, Exception exception);
}
