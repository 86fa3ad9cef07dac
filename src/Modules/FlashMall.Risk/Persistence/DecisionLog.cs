using System.Diagnostics.Metrics;
using System.Threading.Channels;
using FlashMall.Risk.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlashMall.Risk.Persistence;

/// <summary>
/// Refusals on their way to the decisions log. The refused request does not wait for the write:
/// it may be running inside its own module's transaction (an <c>Idempotency-Key</c> claim), which
/// on SQLite holds the one write lock, and a flood of refusals is exactly when writes must be
/// cheap. <see cref="DecisionWriter"/> writes what has arrived in one transaction; past
/// <see cref="Capacity"/> waiting, refusals are still answered but dropped from the log (counted
/// and logged).
/// </summary>
internal sealed class DecisionLog
{
    public const int Capacity = 10_000;

    private readonly Channel<RiskDecision> _queue = Channel.CreateBounded<RiskDecision>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private long _dropped;

    public ChannelReader<RiskDecision> Reader => _queue.Reader;

    public void Record(RiskDecision decision)
    {
        if (!_queue.Writer.TryWrite(decision))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Refusals dropped since the last call.</summary>
    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    public void Complete() => _queue.Writer.TryComplete();
}

/// <summary>Writes the decisions log in batches (up to <see cref="BatchSize"/> per transaction), on every node that refuses.</summary>
internal sealed partial class DecisionWriter(DecisionLog log, IServiceScopeFactory scopes, IMeterFactory meters, ILogger<DecisionWriter> logger) : BackgroundService
{
    public const int BatchSize = 500;

    private readonly Counter<long> _refusals = meters.Create("FlashMall.Risk").CreateCounter<long>("flashmall.risk.refusals", description: "Refusals by the abuse rules, by rule.");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await log.Reader.WaitToReadAsync(stoppingToken))
            {
                await WriteWaitingAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what has arrived is still written below.
        }
        log.Complete();
        await WriteWaitingAsync(CancellationToken.None);
    }

    private async Task WriteWaitingAsync(CancellationToken cancellationToken)
    {
        var batch = new List<RiskDecision>(BatchSize);
        while (batch.Count < BatchSize && log.Reader.TryRead(out var decision))
        {
            batch.Add(decision);
        }
        if (batch.Count == 0)
        {
            return;
        }
        foreach (var decision in batch)
        {
            _refusals.Add(1, new KeyValuePair<string, object?>("rule", decision.Rule));
        }
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RiskDbContext>();
            db.Decisions.AddRange(batch);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or System.Data.Common.DbException or TimeoutException)
        {
            LogWriteFailed(logger, ex, batch.Count);
        }
        if (log.TakeDropped() is > 0 and var dropped)
        {
            LogDropped(logger, dropped, DecisionLog.Capacity);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} risk decisions could not be written to the decisions log")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} risk decisions were refused but not logged: over {Capacity} were waiting to be written")]
    private static partial void LogDropped(ILogger logger, long count, int capacity);
}
