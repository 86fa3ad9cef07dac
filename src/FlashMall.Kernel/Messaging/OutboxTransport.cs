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
/// The embedded transport: the relay calls the consumers itself. Each consumer takes the batch's
/// events of its types as runs of up to <see cref="RunSize"/> in one transaction, in store order
/// (so in order per aggregate). A consumer that fails on an event stops its run there: that event
/// counts a failed attempt and the ones after it are not tried in this pass; the next pass holds
/// back only that event's aggregate.
/// </summary>
internal sealed class InProcessTransport(IntegrationEventDispatcher dispatcher) : IOutboxTransport
{
    public const int RunSize = 100;

    public async Task<DeliveryOutcome[]> DeliverAsync(string moduleSchema, IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        var outcomes = Enumerable.Repeat(DeliveryOutcome.Delivered, messages.Count).ToArray();
        foreach (var subscription in dispatcher.Subscriptions)
        {
            var mine = Enumerable.Range(0, messages.Count).Where(i => messages[i].Type == subscription.EventType).ToList();
            foreach (var chunk in mine.Chunk(RunSize))
            {
                var result = await dispatcher.DispatchRunAsync(
                    [.. chunk.Select(i => new ConsumerMessage(subscription, messages[i].Id, messages[i].Payload))], cancellationToken);
                if (result.Processed == chunk.Length)
                {
                    continue;
                }
                var failed = chunk[result.Processed];
                outcomes[failed] = DeliveryOutcome.Failed(result.Error ?? "failed");
                foreach (var later in mine.Where(i => i > failed && outcomes[i].Sent))
                {
                    outcomes[later] = DeliveryOutcome.NotAttempted;
                }
                break;
            }
        }
        return outcomes;
    }
}
