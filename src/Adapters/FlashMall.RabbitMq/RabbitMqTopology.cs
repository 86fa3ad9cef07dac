using FlashMall.Kernel.Messaging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace FlashMall.RabbitMq;

/// <summary>
/// The exchanges and queues: events go to the topic exchange <c>{prefix}.events</c> under their
/// type name; each consumer has a durable quorum queue <c>{prefix}.{consumer}</c> bound to its
/// event types, with a single active consumer (one node works a queue at a time, so the order
/// per aggregate survives), a delivery limit, and the dead-letter exchange
/// <c>{prefix}.dead-letter</c>, which feeds the quorum queue <c>{prefix}.dead-letters</c>.
/// Declaring is idempotent; every node declares what it uses before using it.
/// </summary>
internal sealed class RabbitMqTopology(IOptions<RabbitMqOptions> options, IntegrationEventDispatcher dispatcher)
{
    private RabbitMqOptions Options => options.Value;

    public string EventsExchange => $"{Options.Prefix}.events";
    public string DeadLetterExchange => $"{Options.Prefix}.dead-letter";
    public string DeadLetterQueue => $"{Options.Prefix}.dead-letters";

    public string QueueOf(string consumer) => $"{Options.Prefix}.{consumer}";

    /// <summary>Each consumer's queue and the event types it is bound to.</summary>
    public IReadOnlyDictionary<string, string[]> ConsumerQueues =>
        dispatcher.Subscriptions
            .GroupBy(s => s.Consumer, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(s => s.EventType).Distinct(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);

    public async Task DeclareAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await channel.ExchangeDeclareAsync(EventsExchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(DeadLetterExchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(DeadLetterQueue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(DeadLetterQueue, DeadLetterExchange, routingKey: "", cancellationToken: cancellationToken);
        foreach (var (consumer, eventTypes) in ConsumerQueues)
        {
            var queue = QueueOf(consumer);
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-single-active-consumer"] = true,
                ["x-delivery-limit"] = Options.DeliveryLimit,
                ["x-dead-letter-exchange"] = DeadLetterExchange,
                ["x-dead-letter-strategy"] = "at-least-once",
                ["x-overflow"] = "reject-publish",
            }, cancellationToken: cancellationToken);
            foreach (var eventType in eventTypes)
            {
                await channel.QueueBindAsync(queue, EventsExchange, eventType, cancellationToken: cancellationToken);
            }
        }
    }
}
