using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlashMall.Kernel.Messaging;

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
            await subscription.Invoke(scope.ServiceProvider, payload, cancellationToken);
            await consumerDb.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(CancellationToken.None);
            return null;
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Processed before (a redelivery): nothing to do for this consumer.
            await transaction.RollbackAsync(CancellationToken.None);
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            LogHandlerFailed(logger, ex, messageId, subscription.Consumer);
            return $"{subscription.Consumer}: {ex.GetType().Name}: {ex.Message}";
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer} failed on message {MessageId}; it will be retried")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, Guid messageId, string consumer);
}
