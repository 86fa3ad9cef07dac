using System.Text;
using System.Threading.Channels;
using FlashMall.Kernel.Messaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace FlashMall.RabbitMq;

/// <summary>A delivery taken off a queue: what the lane needs after the client has reused the frame.</summary>
internal sealed record QueuedDelivery(IChannel Channel, ulong Tag, OutboxAddress Address, string AggregateId, long Sequence, string Type, string Payload);

/// <summary>
/// Works every consumer's queue on <c>all</c> and <c>worker</c> nodes: a queue per consumer,
/// manual acks, deliveries spread over lanes by aggregate (<c>Messaging:Parallelism</c>) so
/// aggregates are handled in parallel and each one's events in order. A failing consumer is
/// retried with backoff while its message is held; after <c>Messaging:MaxAttempts</c> the
/// message is dead-lettered in its outbox (listed and replayed by operators) and the
/// aggregate's later events are handed back to the outbox to wait behind it.
/// </summary>
internal sealed partial class RabbitMqConsumers(
    RabbitMqConnection connection,
    RabbitMqTopology topology,
    IntegrationEventDispatcher dispatcher,
    OutboxStore store,
    IOptions<MessagingOptions> messaging,
    IOptions<RabbitMqOptions> options,
    TimeProvider clock,
    ILogger<RabbitMqConsumers> logger) : BackgroundService
{
    private static readonly TimeSpan HeadsRefresh = TimeSpan.FromSeconds(2);

    private readonly DeadLetterHeads _heads = new();
    private readonly List<IChannel> _channels = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queues = topology.ConsumerQueues;
        if (queues.Count == 0)
        {
            return;
        }
        try
        {
            var conn = await ConnectAsync(connection, logger, stoppingToken);
            await using (var setup = await conn.CreateChannelAsync(cancellationToken: stoppingToken))
            {
                await topology.DeclareAsync(setup, stoppingToken);
            }
            await RefreshHeadsAsync(stoppingToken);

            var workers = new List<Task>();
            foreach (var (consumer, _) in queues)
            {
                workers.AddRange(await ConsumeAsync(conn, consumer, stoppingToken));
            }
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(HeadsRefresh, clock, stoppingToken);
                await RefreshHeadsAsync(stoppingToken);
            }
            await Task.WhenAll(workers);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Closing the channels hands every unacknowledged delivery back to its queue.
            foreach (var channel in _channels)
            {
                await CloseQuietlyAsync(channel);
            }
        }
    }

    private async Task<IEnumerable<Task>> ConsumeAsync(IConnection conn, string consumer, CancellationToken stoppingToken)
    {
        var channel = await conn.CreateChannelAsync(cancellationToken: stoppingToken);
        _channels.Add(channel);
        await channel.BasicQosAsync(0, options.Value.Prefetch, global: false, stoppingToken);
        var subscriptions = dispatcher.Subscriptions.Where(s => s.Consumer == consumer).ToArray();
        var lanes = Enumerable.Range(0, messaging.Value.Parallelism)
            .Select(_ => Channel.CreateUnbounded<QueuedDelivery>(new UnboundedChannelOptions { SingleReader = true }))
            .ToArray();

        var basicConsumer = new AsyncEventingBasicConsumer(channel);
        basicConsumer.ReceivedAsync += async (_, delivery) =>
        {
            if (RabbitMqMessage.Locate(delivery.BasicProperties) is not var (address, aggregate, sequence))
            {
                LogNotOurs(logger, delivery.BasicProperties.MessageId, topology.QueueOf(consumer));
                await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: false, stoppingToken);
                return;
            }
            var queued = new QueuedDelivery(channel, delivery.DeliveryTag, address, aggregate, sequence,
                delivery.BasicProperties.Type ?? "", Encoding.UTF8.GetString(delivery.Body.Span));
            var lane = (int)((uint)StringComparer.Ordinal.GetHashCode(aggregate) % (uint)lanes.Length);
            await lanes[lane].Writer.WriteAsync(queued, stoppingToken);
        };
        await channel.BasicConsumeAsync(topology.QueueOf(consumer), autoAck: false, basicConsumer, stoppingToken);
        return lanes.Select(lane => WorkLaneAsync(lane.Reader, subscriptions, stoppingToken));
    }

    private async Task WorkLaneAsync(ChannelReader<QueuedDelivery> lane, IntegrationEventSubscription[] subscriptions, CancellationToken stoppingToken)
    {
        await foreach (var delivery in lane.ReadAllAsync(stoppingToken))
        {
            try
            {
                await HandleAsync(delivery, subscriptions, stoppingToken);
                await delivery.Channel.BasicAckAsync(delivery.Tag, multiple: false, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return; // unacknowledged: the broker redelivers it
            }
            catch (Exception ex)
            {
                // The store or the channel failed: give the message back for a later delivery.
                LogDeliveryFailed(logger, ex, delivery.Address.MessageId);
                await Task.Delay(messaging.Value.PollInterval, clock, stoppingToken);
                await NackQuietlyAsync(delivery);
            }
        }
    }

    private async Task HandleAsync(QueuedDelivery delivery, IntegrationEventSubscription[] subscriptions, CancellationToken cancellationToken)
    {
        var aggregate = (delivery.Address.Module, delivery.AggregateId);
        if (_heads.TryGet(aggregate, out var head))
        {
            if (head.MessageId == delivery.Address.MessageId)
            {
                _heads.Remove(aggregate); // the dead letter itself, replayed: its aggregate flows again
            }
            else if (delivery.Sequence > head.Sequence)
            {
                await store.ReturnToOutboxAsync(delivery.Address, cancellationToken);
                return;
            }
        }

        foreach (var subscription in subscriptions.Where(s => s.EventType == delivery.Type))
        {
            for (var attempt = 1; ; attempt++)
            {
                var error = await dispatcher.DispatchAsync(subscription, delivery.Address.MessageId, delivery.Payload, cancellationToken);
                if (error is null)
                {
                    break;
                }
                if (attempt >= messaging.Value.MaxAttempts)
                {
                    await store.MarkDeadLetteredAsync(delivery.Address, error, cancellationToken);
                    _heads.Add(aggregate, new DeadLetterHead(delivery.Address.MessageId, delivery.Sequence));
                    return;
                }
                await store.RecordFailureAsync(delivery.Address, error, cancellationToken);
                await Task.Delay(messaging.Value.RetryDelayAfter(attempt), clock, cancellationToken);
            }
        }
    }

    private async Task RefreshHeadsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var version = _heads.Version;
            _heads.Replace(await store.DeadLetterHeadsAsync(cancellationToken), version);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogHeadsRefreshFailed(logger, ex);
        }
    }

    private static async Task NackQuietlyAsync(QueuedDelivery delivery)
    {
        try
        {
            await delivery.Channel.BasicNackAsync(delivery.Tag, multiple: false, requeue: true);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The channel is gone: the broker has already put the message back.
        }
    }

    internal static async Task CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            await channel.CloseAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Already closed with its connection.
        }
        channel.Dispose();
    }

    /// <summary>Connects, retrying while the broker is unreachable (the node still starts and serves).</summary>
    internal static async Task<IConnection> ConnectAsync(RabbitMqConnection connection, ILogger logger, CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                return await connection.GetAsync(stoppingToken);
            }
            catch (InvalidOperationException ex)
            {
                LogUnreachable(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} on {Queue} is not a FlashMall outbox message; rejected to the dead-letter exchange")]
    private static partial void LogNotOurs(ILogger logger, string? messageId, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handling message {MessageId} failed outside its consumer; it goes back to the queue")]
    private static partial void LogDeliveryFailed(ILogger logger, Exception exception, Guid messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the dead letters from the outboxes; keeping the last known")]
    private static partial void LogHeadsRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RabbitMQ is unreachable; retrying")]
    private static partial void LogUnreachable(ILogger logger, Exception exception);
}

/// <summary>
/// The first dead letter of each aggregate, as this node knows it: read from the outboxes every
/// few seconds (dead letters written or replayed by other nodes) and changed at once by this
/// node's own consumers. A refresh keeps the changes made while it was reading.
/// </summary>
internal sealed class DeadLetterHeads
{
    private readonly Lock _lock = new();
    private readonly List<(long Version, (string, string) Key, DeadLetterHead? Head)> _changes = [];
    private Dictionary<(string, string), DeadLetterHead> _heads = [];
    private long _version;

    public long Version => Volatile.Read(ref _version);

    public bool TryGet((string Module, string AggregateId) key, out DeadLetterHead head) => Volatile.Read(ref _heads).TryGetValue(key, out head);

    public void Add((string Module, string AggregateId) key, DeadLetterHead head) => Change(key, head);

    public void Remove((string Module, string AggregateId) key) => Change(key, null);

    /// <summary>Takes <paramref name="fromStore"/>, read after <paramref name="readSince"/>, plus the changes made since.</summary>
    public void Replace(Dictionary<(string, string), DeadLetterHead> fromStore, long readSince)
    {
        lock (_lock)
        {
            foreach (var (version, key, head) in _changes)
            {
                if (version > readSince)
                {
                    Apply(fromStore, key, head);
                }
            }
            _changes.RemoveAll(c => c.Version <= readSince);
            Volatile.Write(ref _heads, fromStore);
        }
    }

    private void Change((string, string) key, DeadLetterHead? head)
    {
        lock (_lock)
        {
            var next = new Dictionary<(string, string), DeadLetterHead>(_heads);
            Apply(next, key, head);
            _changes.Add((Interlocked.Increment(ref _version), key, head));
            Volatile.Write(ref _heads, next);
        }
    }

    private static void Apply(Dictionary<(string, string), DeadLetterHead> heads, (string, string) key, DeadLetterHead? head)
    {
        if (head is { } h)
        {
            heads.TryAdd(key, h);
        }
        else
        {
            heads.Remove(key);
        }
    }
}

/// <summary>
/// Records what the broker dead-lettered (a message over its delivery limit, or one rejected as
/// not ours) in the outbox it came from, so operators see and replay every dead letter in one place.
/// </summary>
internal sealed partial class RabbitMqDeadLetterArchiver(
    RabbitMqConnection connection,
    RabbitMqTopology topology,
    OutboxStore store,
    IOptions<MessagingOptions> messaging,
    TimeProvider clock,
    ILogger<RabbitMqDeadLetterArchiver> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IChannel? channel = null;
        try
        {
            var conn = await RabbitMqConsumers.ConnectAsync(connection, logger, stoppingToken);
            channel = await conn.CreateChannelAsync(cancellationToken: stoppingToken);
            await topology.DeclareAsync(channel, stoppingToken);
            await channel.BasicQosAsync(0, 16, global: false, stoppingToken);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, delivery) => ArchiveAsync(channel, delivery, stoppingToken);
            await channel.BasicConsumeAsync(topology.DeadLetterQueue, autoAck: false, consumer, stoppingToken);
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (channel is not null)
            {
                await RabbitMqConsumers.CloseQuietlyAsync(channel);
            }
        }
    }

    private async Task ArchiveAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken cancellationToken)
    {
        var reason = RabbitMqMessage.Header(delivery.BasicProperties, "x-first-death-reason") ?? "unknown";
        var queue = RabbitMqMessage.Header(delivery.BasicProperties, "x-first-death-queue") ?? "unknown";
        try
        {
            if (RabbitMqMessage.Locate(delivery.BasicProperties) is var (address, _, _))
            {
                await store.MarkDeadLetteredAsync(address, $"RabbitMQ dead-lettered it from {queue}: {reason}", cancellationToken);
            }
            else
            {
                LogDiscarded(logger, delivery.BasicProperties.MessageId, delivery.BasicProperties.Type, queue, reason,
                    Encoding.UTF8.GetString(delivery.Body.Span[..Math.Min(delivery.Body.Length, 2000)]));
            }
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogArchiveFailed(logger, ex, delivery.BasicProperties.MessageId);
            await Task.Delay(messaging.Value.PollInterval, clock, cancellationToken);
            await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Dead-lettered message {MessageId} ({Type}) from {Queue} ({Reason}) belongs to no outbox; discarded. Body: {Body}")]
    private static partial void LogDiscarded(ILogger logger, string? messageId, string? type, string queue, string reason, string body);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record dead-lettered message {MessageId}; it goes back to the dead-letter queue")]
    private static partial void LogArchiveFailed(ILogger logger, Exception exception, string? messageId);
}
