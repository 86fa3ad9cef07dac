using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Kernel.Messaging;

/// <summary>
/// The in-process transport: delivers every module's outbox to the subscribed consumers, at
/// least once and in order per aggregate. Each consumer runs in its own scope and transaction,
/// which first records the message as processed by it (a duplicate key means it already was),
/// so redelivery changes nothing. A failure retries with backoff; the last one dead-letters.
/// Runs on <c>all</c> and <c>worker</c> nodes.
/// </summary>
internal sealed partial class OutboxRelay(
    IServiceScopeFactory scopes,
    IEnumerable<ModuleDbContextRegistration> modules,
    IEnumerable<IntegrationEventSubscription> subscriptions,
    IOptions<MessagingOptions> options,
    TimeProvider clock,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    public const int BatchSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var woken = OutboxSignal.Instance.Next;
                foreach (var module in modules)
                {
                    await DeliverPendingAsync(module, stoppingToken);
                }
                await Task.WhenAny(woken, Task.Delay(options.Value.PollInterval, clock, stoppingToken));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The store may be down; try again after a pause rather than stop delivering.
                LogRelayFailed(logger, ex);
                await Task.Delay(options.Value.PollInterval, clock, stoppingToken);
            }
        }
    }

    internal async Task DeliverPendingAsync(ModuleDbContextRegistration module, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        foreach (var (db, _) in new[] { module }.Holding<OutboxMessage>(scope.ServiceProvider))
        {
            await DeliverPendingAsync(db, cancellationToken);
        }
    }

    private async Task DeliverPendingAsync(DbContext db, CancellationToken cancellationToken)
    {

        var pending = await db.Set<OutboxMessage>()
            .Where(m => m.SentAt == null && m.DeadLetteredAt == null)
            .OrderBy(m => m.Sequence)
            .Take(BatchSize)
            .ToListAsync(cancellationToken);

        // A message waiting for its retry, or dead-lettered, holds back the later messages of its
        // aggregate: events of one aggregate are delivered in order or not at all.
        var aggregates = pending.Select(m => m.AggregateId).Distinct().ToList();
        var deadLettered = await db.Set<OutboxMessage>()
            .Where(m => m.DeadLetteredAt != null && aggregates.Contains(m.AggregateId))
            .GroupBy(m => m.AggregateId)
            .Select(g => new { AggregateId = g.Key, First = g.Min(m => m.Sequence) })
            .ToDictionaryAsync(d => d.AggregateId, d => d.First, cancellationToken);
        var heldBack = new HashSet<string>(StringComparer.Ordinal);
        foreach (var message in pending)
        {
            var now = clock.GetUtcNow();
            if (heldBack.Contains(message.AggregateId) || message.NextAttemptAt > now
                || (deadLettered.TryGetValue(message.AggregateId, out var blockedFrom) && blockedFrom < message.Sequence))
            {
                heldBack.Add(message.AggregateId);
                continue;
            }
            var error = await DispatchAsync(message, cancellationToken);
            if (error is null)
            {
                message.MarkSent(clock.GetUtcNow());
            }
            else
            {
                message.RecordFailure(error, clock.GetUtcNow(), options.Value.MaxAttempts, options.Value.RetryBaseDelay);
                heldBack.Add(message.AggregateId);
                if (message.DeadLetteredAt is not null)
                {
                    LogDeadLettered(logger, message.Id, message.Type, message.Attempts, error);
                }
            }
            await db.SaveChangesAsync(CancellationToken.None);
        }
    }

    /// <summary>Runs every subscription to the message; null when all have processed it.</summary>
    private async Task<string?> DispatchAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        foreach (var subscription in subscriptions.Where(s => s.EventType == message.Type))
        {
            await using var scope = scopes.CreateAsyncScope();
            var consumerDb = (DbContext)scope.ServiceProvider.GetRequiredService(subscription.ConsumerContext);
            await using var transaction = await consumerDb.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                consumerDb.Add(ProcessedMessage.For(message.Id, subscription.Consumer, clock.GetUtcNow()));
                await consumerDb.SaveChangesAsync(cancellationToken);
                await subscription.Invoke(scope.ServiceProvider, message.Payload, cancellationToken);
                await consumerDb.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(CancellationToken.None);
            }
            catch (DbUpdateException ex) when (ex.IsUniqueViolation())
            {
                // Processed before (a redelivery): nothing to do for this consumer.
                await transaction.RollbackAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                await transaction.RollbackAsync(CancellationToken.None);
                LogHandlerFailed(logger, ex, message.Id, subscription.Consumer);
                return $"{subscription.Consumer}: {ex.GetType().Name}: {ex.Message}";
            }
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer} failed on message {MessageId}; it will be retried")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, Guid messageId, string consumer);

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} ({Type}) dead-lettered after {Attempts} attempts: {Error}")]
    private static partial void LogDeadLettered(ILogger logger, Guid messageId, string type, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "The outbox relay failed; retrying")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception);
}
