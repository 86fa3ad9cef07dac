using FlashMall.Kernel.Observability;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlashMall.Kernel.Messaging;

/// <summary>One message for one consumer.</summary>
public readonly record struct ConsumerMessage(IntegrationEventSubscription Subscription, Guid MessageId, string Payload);

/// <summary>How far a run got: the first <see cref="Processed"/> took effect; when <see cref="Error"/> is set, the next one failed with it.</summary>
public readonly record struct RunResult(int Processed, string? Error);

/// <summary>
/// Hands one message to one consumer, exactly once in effect: in the consumer's own scope and
/// transaction it first records the message as processed by that consumer (a duplicate key
/// means it already was, so a redelivery changes nothing), then runs the consumer, then commits
/// both. Both transports call it: the in-process relay directly, RabbitMQ from its queues.
/// </summary>
public sealed partial class IntegrationEventDispatcher(
    IServiceScopeFactory scopes,
    IEnumerable<IntegrationEventSubscription> subscriptions,
    TimeProvider clock,
    ILogger<IntegrationEventDispatcher> logger)
{
    private readonly IntegrationEventSubscription[] _subscriptions = [.. subscriptions];

    public IReadOnlyList<IntegrationEventSubscription> Subscriptions => _subscriptions;

    /// <summary>Runs every consumer of the message's type; null when all have processed it, else the first failure.</summary>
    public async Task<string?> DispatchAsync(Guid messageId, string type, string payload, CancellationToken cancellationToken)
    {
        foreach (var subscription in _subscriptions)
        {
            if (subscription.EventType == type
                && await DispatchAsync(subscription, messageId, payload, cancellationToken) is { } error)
            {
                return error;
            }
        }
        return null;
    }

    /// <summary>
    /// Hands a run of messages to one consumer in one transaction: those it processed before are
    /// skipped, the others recorded and consumed in order, one commit — a commit per run instead of
    /// per message is most of the throughput. When a consumer throws on one, the run is rolled back,
    /// the messages before it are done again as a run, and the result names the one that failed
    /// (its failure counts as an attempt); the messages after it are not tried.
    /// </summary>
    public async Task<RunResult> DispatchRunAsync(IReadOnlyList<ConsumerMessage> run, CancellationToken cancellationToken)
    {
        if (run.Count == 0)
        {
            return new RunResult(0, null);
        }
        if (run.Count == 1 || run[0].Subscription.OneAtATime || run.Any(m => m.Subscription.Consumer != run[0].Subscription.Consumer))
        {
            return await OneByOneAsync(run, cancellationToken);
        }
        var (committed, failedAt, error) = await TryRunAsync(run, cancellationToken);
        if (committed)
        {
            return new RunResult(run.Count, null);
        }
        if (failedAt is not { } index)
        {
            // The commit itself failed (another node recorded one of them first): one by one skips those.
            return await OneByOneAsync(run, cancellationToken);
        }
        var before = await DispatchRunAsync([.. run.Take(index)], cancellationToken);
        return before.Processed < index ? before : new RunResult(index, error);
    }

    private async Task<RunResult> OneByOneAsync(IReadOnlyList<ConsumerMessage> run, CancellationToken cancellationToken)
    {
        for (var i = 0; i < run.Count; i++)
        {
            if (await DispatchAsync(run[i].Subscription, run[i].MessageId, run[i].Payload, cancellationToken) is { } error)
            {
                return new RunResult(i, error);
            }
        }
        return new RunResult(run.Count, null);
    }

    private async Task<(bool Committed, int? FailedAt, string? Error)> TryRunAsync(IReadOnlyList<ConsumerMessage> run, CancellationToken cancellationToken)
    {
        var consumer = run[0].Subscription.Consumer;
        await using var scope = scopes.CreateAsyncScope();
        var consumerDb = (DbContext)scope.ServiceProvider.GetRequiredService(run[0].Subscription.ConsumerContext);
        await using var transaction = await consumerDb.Database.BeginTransactionAsync(cancellationToken);
        var current = -1;
        try
        {
            var ids = run.Select(m => m.MessageId).ToList();
            var processedBefore = (await consumerDb.Set<ProcessedMessage>()
                .Where(p => p.Consumer == consumer && ids.Contains(p.MessageId))
                .Select(p => p.MessageId)
                .ToListAsync(cancellationToken)).ToHashSet();
            var now = clock.GetUtcNow();
            var fresh = run.Select((m, i) => (m, i)).Where(x => processedBefore.Add(x.m.MessageId)).ToList();
            foreach (var (message, _) in fresh)
            {
                consumerDb.Add(ProcessedMessage.For(message.MessageId, consumer, now));
            }
            await consumerDb.SaveChangesAsync(cancellationToken);
            foreach (var (message, i) in fresh)
            {
                current = i;
                using var activity = TraceEnvelope.StartConsume(message.Subscription, message.MessageId, message.Payload);
                await message.Subscription.Invoke(scope.ServiceProvider, message.Payload, cancellationToken);
            }
            current = -1;
            await consumerDb.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(CancellationToken.None);
            KernelMetrics.Consumed.Add(fresh.Count, new KeyValuePair<string, object?>("consumer", consumer), new KeyValuePair<string, object?>("result", "processed"));
            return (true, null, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            if (current < 0)
            {
                return (false, null, null);
            }
            LogHandlerFailed(logger, ex, run[current].MessageId, consumer);
            KernelMetrics.Consumed.Add(1, new KeyValuePair<string, object?>("consumer", consumer), new KeyValuePair<string, object?>("result", "failed"));
            return (false, current, $"{consumer}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>Null when the consumer has processed the message (now or before); else what went wrong.</summary>
    public async Task<string?> DispatchAsync(IntegrationEventSubscription subscription, Guid messageId, string payload, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var consumerDb = (DbContext)scope.ServiceProvider.GetRequiredService(subscription.ConsumerContext);
        await using var transaction = await consumerDb.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            consumerDb.Add(ProcessedMessage.For(messageId, subscription.Consumer, clock.GetUtcNow()));
            await consumerDb.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Processed before (a redelivery): nothing to do for this consumer.
            await transaction.RollbackAsync(CancellationToken.None);
            return null;
        }
        using var activity = TraceEnvelope.StartConsume(subscription, messageId, payload);
        try
        {
            await subscription.Invoke(scope.ServiceProvider, payload, cancellationToken);
            await consumerDb.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(CancellationToken.None);
            KernelMetrics.Consumed.Add(1, new KeyValuePair<string, object?>("consumer", subscription.Consumer), new KeyValuePair<string, object?>("result", "processed"));
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.GetType().Name);
            KernelMetrics.Consumed.Add(1, new KeyValuePair<string, object?>("consumer", subscription.Consumer), new KeyValuePair<string, object?>("result", "failed"));
            LogHandlerFailed(logger, ex, messageId, subscription.Consumer);
            return $"{subscription.Consumer}: {ex.GetType().Name}: {ex.Message}";
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer} failed on message {MessageId}; it will be retried")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, Guid messageId, string consumer);
}
