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
/// aggregates are handled in parallel and each one's events in order; what has arrived in a lane
/// goes to the consumer as a run in one transaction. A failing consumer is retried with backoff
/// while its message is held; after <c>Messaging:MaxAttempts</c> the
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
    /// <summary>Most deliveries one lane hands to its consumer in one transaction.</summary>
    public const int RunSize = 64;

    private static readonly TimeSpan Watch = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queues = topology.ConsumerQueues.Keys.ToList();
        if (queues.Count == 0)
        {
            return;
        }
        var consumers = new Dictionary<string, QueueConsumer>(StringComparer.Ordinal);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var conn = await ConnectAsync(connection, logger, stoppingToken);
                    if (consumers.Count == 0)
                    {
                        await using var setup = await conn.CreateChannelAsync(cancellationToken: stoppingToken);
                        await topology.DeclareAsync(setup, stoppingToken);
                    }
                    // A channel the broker closed on its own (the connection is fine) is not
                    // recovered by the client: start that queue's consumer again.
                    foreach (var queue in queues)
                    {
                        if (consumers.TryGetValue(queue, out var running) && (running.Channel.IsOpen || !conn.IsOpen))
                        {
                            continue;
                        }
                        if (running is not null)
                        {
                            LogChannelClosed(logger, topology.QueueOf(queue), running.Channel.CloseReason?.ReplyText);
                            await running.StopAsync();
                        }
                        consumers[queue] = await StartConsumerAsync(conn, queue, stoppingToken);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // Broker away during set-up, or a queue declared with other arguments: keep trying, never stop the node.
                    LogSetupFailed(logger, ex);
                }
                await Task.Delay(Watch, clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Lanes finish what they hold (or give up on the stop); closing the channels hands
            // every unacknowledged delivery back to its queue.
            foreach (var consumer in consumers.Values)
            {
                await consumer.StopAsync();
            }
        }
    }

    private sealed record QueueConsumer(IChannel Channel, CancellationTokenSource Stopping, Task Lanes)
    {
        public async Task StopAsync()
        {
            await Stopping.CancelAsync();
            await Task.WhenAny(Lanes, Task.Delay(TimeSpan.FromSeconds(5)));
            await CloseQuietlyAsync(Channel);
            Stopping.Dispose();
        }
    }

    private async Task<QueueConsumer> StartConsumerAsync(IConnection conn, string consumer, CancellationToken stoppingToken)
    {
        var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var channel = await conn.CreateChannelAsync(cancellationToken: stoppingToken);
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
                await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: false, stopping.Token);
                return;
            }
            var queued = new QueuedDelivery(channel, delivery.DeliveryTag, address, aggregate, sequence,
                delivery.BasicProperties.Type ?? "", Encoding.UTF8.GetString(delivery.Body.Span));
            var lane = (int)((uint)StringComparer.Ordinal.GetHashCode(aggregate) % (uint)lanes.Length);
            await lanes[lane].Writer.WriteAsync(queued, stopping.Token);
        };
        var workers = Task.WhenAll(lanes.Select(lane => WorkLaneAsync(lane.Reader, subscriptions, stopping.Token)));
        await channel.BasicConsumeAsync(topology.QueueOf(consumer), autoAck: false, basicConsumer, stoppingToken);
        return new QueueConsumer(channel, stopping, workers);
    }

    /// <summary>
    /// Takes what has arrived in the lane (up to <see cref="RunSize"/>) and handles it. When that
    /// fails outside the consumer (the store is down), it tries the same deliveries again in place:
    /// giving them back would let the lane's later events of their aggregates pass them.
    /// </summary>
    private async Task WorkLaneAsync(ChannelReader<QueuedDelivery> lane, IntegrationEventSubscription[] subscriptions, CancellationToken stoppingToken)
    {
        var taken = new List<QueuedDelivery>(RunSize);
        var settled = new HashSet<ulong>();
        try
        {
            while (await lane.WaitToReadAsync(stoppingToken))
            {
                while (taken.Count < RunSize && lane.TryRead(out var delivery))
                {
                    taken.Add(delivery);
                }
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await HandleAsync(taken, settled, subscriptions, stoppingToken);
                        break;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                    {
                        if (!taken[0].Channel.IsOpen)
                        {
                            break; // the channel is gone: the broker already put them back, in order
                        }
                        LogDeliveryFailed(logger, ex, taken.Count - settled.Count);
                        await Task.Delay(messaging.Value.RetryDelayAfter(Math.Min(attempt, 6)), clock, stoppingToken);
                    }
                }
                taken.Clear();
                settled.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Unacknowledged deliveries go back to the queue when the channel closes.
        }
    }

    /// <summary>
    /// In arrival order: an event behind a dead letter of its aggregate (read from its outbox)
    /// joins it in the dead-letter store; the others go to the consumer as one run (one
    /// transaction). If the consumer fails on one, the run stops there and that one is retried
    /// alone, with backoff, until it succeeds or is dead-lettered; then the rest is looked at again.
    /// </summary>
    private async Task HandleAsync(List<QueuedDelivery> taken, HashSet<ulong> settled, IntegrationEventSubscription[] subscriptions, CancellationToken cancellationToken)
    {
        var position = 0;
        while (position < taken.Count)
        {
            var blocked = await FirstDeadLettersAsync(taken.Skip(position).Where(d => !settled.Contains(d.Tag)), cancellationToken);
            var run = new List<(QueuedDelivery Delivery, ConsumerMessage Message)>();
            for (; position < taken.Count; position++)
            {
                var delivery = taken[position];
                if (settled.Contains(delivery.Tag))
                {
                    continue;
                }
                if (blocked.TryGetValue((delivery.Address.Module, delivery.AggregateId), out var firstDeadLetter) && firstDeadLetter <= delivery.Sequence)
                {
                    if (firstDeadLetter < delivery.Sequence)
                    {
                        await store.HoldBackAsync(delivery.Address, cancellationToken);
                    }
                    await AckAsync(delivery, settled, cancellationToken); // its outbox row waits for the replay
                    continue;
                }
                if (subscriptions.FirstOrDefault(s => s.EventType == delivery.Type) is not { } subscription)
                {
                    await AckAsync(delivery, settled, cancellationToken); // bound once, no longer consumed here
                    continue;
                }
                run.Add((delivery, new ConsumerMessage(subscription, delivery.Address.MessageId, delivery.Payload)));
            }

            var result = await dispatcher.DispatchRunAsync([.. run.Select(r => r.Message)], cancellationToken);
            foreach (var (delivery, _) in run.Take(result.Processed))
            {
                await AckAsync(delivery, settled, cancellationToken);
            }
            if (result.Processed == run.Count)
            {
                return;
            }
            var (failed, message) = run[result.Processed];
            await RetryAloneAsync(failed, message, result.Error ?? "failed", cancellationToken);
            await AckAsync(failed, settled, cancellationToken);
            position = taken.IndexOf(failed) + 1;
        }
    }

    private async Task<Dictionary<(string Module, string AggregateId), long>> FirstDeadLettersAsync(
        IEnumerable<QueuedDelivery> deliveries, CancellationToken cancellationToken)
    {
        var first = new Dictionary<(string, string), long>();
        foreach (var module in deliveries.GroupBy(d => d.Address.Module, StringComparer.Ordinal))
        {
            var aggregates = module.Select(d => d.AggregateId).Distinct(StringComparer.Ordinal).ToList();
            foreach (var (aggregate, sequence) in await store.FirstDeadLettersAsync(module.Key, aggregates, cancellationToken))
            {
                first[(module.Key, aggregate)] = sequence;
            }
        }
        return first;
    }

    /// <summary>The run's failure was attempt 1; tries again with backoff until it succeeds or is dead-lettered.</summary>
    private async Task RetryAloneAsync(QueuedDelivery delivery, ConsumerMessage message, string error, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (attempt >= messaging.Value.MaxAttempts)
            {
                await store.MarkDeadLetteredAsync(delivery.Address, error, cancellationToken);
                return;
            }
            await store.RecordFailureAsync(delivery.Address, error, cancellationToken);
            await Task.Delay(messaging.Value.RetryDelayAfter(attempt), clock, cancellationToken);
            if (await dispatcher.DispatchAsync(message.Subscription, message.MessageId, message.Payload, cancellationToken) is not { } next)
            {
                return;
            }
            error = next;
        }
    }

    private static async Task AckAsync(QueuedDelivery delivery, HashSet<ulong> settled, CancellationToken cancellationToken)
    {
        await delivery.Channel.BasicAckAsync(delivery.Tag, multiple: false, cancellationToken);
        settled.Add(delivery.Tag);
    }

    internal static async Task CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await channel.CloseAsync(timeout.Token);
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
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogUnreachable(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} on {Queue} is not a FlashMall outbox message; rejected to the dead-letter exchange")]
    private static partial void LogNotOurs(ILogger logger, string? messageId, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handling deliveries failed outside their consumer; retrying {Count} in place")]
    private static partial void LogDeliveryFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Setting up the RabbitMQ consumers failed; retrying")]
    private static partial void LogSetupFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The broker closed the channel of {Queue} ({Reason}); consuming it again")]
    private static partial void LogChannelClosed(ILogger logger, string queue, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RabbitMQ is unreachable; retrying")]
    private static partial void LogUnreachable(ILogger logger, Exception exception);
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
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var conn = await RabbitMqConsumers.ConnectAsync(connection, logger, stoppingToken);
                    if (channel is null || (!channel.IsOpen && conn.IsOpen))
                    {
                        if (channel is not null)
                        {
                            await RabbitMqConsumers.CloseQuietlyAsync(channel);
                        }
                        channel = await conn.CreateChannelAsync(cancellationToken: stoppingToken);
                        await topology.DeclareAsync(channel, stoppingToken);
                        await channel.BasicQosAsync(0, 16, global: false, stoppingToken);
                        var consumer = new AsyncEventingBasicConsumer(channel);
                        var consuming = channel;
                        consumer.ReceivedAsync += (_, delivery) => ArchiveAsync(consuming, delivery, stoppingToken);
                        await channel.BasicConsumeAsync(topology.DeadLetterQueue, autoAck: false, consumer, stoppingToken);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogSetupFailed(logger, ex);
                }
                await Task.Delay(TimeSpan.FromSeconds(2), clock, stoppingToken);
            }
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Consuming the dead-letter queue failed; retrying")]
    private static partial void LogSetupFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record dead-lettered message {MessageId}; it goes back to the dead-letter queue")]
    private static partial void LogArchiveFailed(ILogger logger, Exception exception, string? messageId);
}
