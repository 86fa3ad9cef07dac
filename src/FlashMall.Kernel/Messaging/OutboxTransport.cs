using Microsoft.Extensions.Options;

namespace FlashMall.Kernel.Messaging;

/// <summary>What became of one message handed to a transport.</summary>
public readonly record struct DeliveryOutcome(bool Sent, string? Error)
{
    /// <summary>Delivered (in-process: consumed; RabbitMQ: confirmed by the broker).</summary>
    public static readonly DeliveryOutcome Delivered = new(true, null);

    /// <summary>Not tried (an earlier event of its aggregate failed, or the transport stopped): it stays pending.</summary>
    public static readonly DeliveryOutcome NotAttempted = new(false, null);

    /// <summary>Tried and failed: counts as an attempt, retried with backoff, dead-lettered after the last.</summary>
    public static DeliveryOutcome Failed(string error) => new(false, error);
}

/// <summary>
/// Carries a module's outbox messages onward. The relay hands it the messages that may leave now,
/// in store order; the transport keeps that order within each aggregate.
/// </summary>
public interface IOutboxTransport
{
    /// <summary>One outcome per message, in the same order.</summary>
    Task<DeliveryOutcome[]> DeliverAsync(string moduleSchema, IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken);
}

/// <summary>
/// The embedded transport: the relay calls the consumers itself. Aggregates are delivered in
/// parallel (<c>Messaging:Parallelism</c>), each one's events one after another; after a failure
/// the aggregate's later events are not tried in this pass.
/// </summary>
internal sealed class InProcessTransport(IntegrationEventDispatcher dispatcher, IOptions<MessagingOptions> options) : IOutboxTransport
{
    public async Task<DeliveryOutcome[]> DeliverAsync(string moduleSchema, IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        var outcomes = new DeliveryOutcome[messages.Count];
        var lanes = Enumerable.Range(0, messages.Count).GroupBy(i => messages[i].AggregateId, StringComparer.Ordinal);
        await Parallel.ForEachAsync(lanes,
            new ParallelOptions { MaxDegreeOfParallelism = options.Value.Parallelism, CancellationToken = cancellationToken },
            async (lane, ct) =>
            {
                var failed = false;
                foreach (var i in lane)
                {
                    if (failed)
                    {
                        outcomes[i] = DeliveryOutcome.NotAttempted;
                        continue;
                    }
                    var message = messages[i];
                    var error = await dispatcher.DispatchAsync(message.Id, message.Type, message.Payload, ct);
                    outcomes[i] = error is null ? DeliveryOutcome.Delivered : DeliveryOutcome.Failed(error);
                    failed = error is not null;
                }
            });
        return outcomes;
    }
}
