using System.Text;
using FlashMall.Kernel.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace FlashMall.RabbitMq;

/// <summary>
/// The relay's side of RabbitMQ: publishes outbox messages as persistent messages and reports
/// one sent only when the broker has confirmed it (written to the quorum queues). Aggregates
/// are published in parallel; one aggregate's next event waits for the previous confirm, so
/// the queues receive them in order. What is not confirmed stays pending and is sent again.
/// </summary>
internal sealed partial class RabbitMqTransport(
    RabbitMqConnection connection,
    RabbitMqTopology topology,
    IOptions<RabbitMqOptions> options,
    ILogger<RabbitMqTransport> logger) : IOutboxTransport, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IChannel? _channel;

    public async Task<DeliveryOutcome[]> DeliverAsync(string moduleSchema, IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        var outcomes = new DeliveryOutcome[messages.Count];
        var channel = await ChannelAsync(cancellationToken);
        Exception? firstFailure = null;
        var lanes = Enumerable.Range(0, messages.Count).GroupBy(i => messages[i].AggregateId, StringComparer.Ordinal);
        await Parallel.ForEachAsync(lanes,
            new ParallelOptions { MaxDegreeOfParallelism = options.Value.PublishConcurrency, CancellationToken = cancellationToken },
            async (lane, ct) =>
            {
                foreach (var i in lane)
                {
                    var message = messages[i];
                    try
                    {
                        await channel.BasicPublishAsync(topology.EventsExchange, message.Type, mandatory: false,
                            RabbitMqMessage.PropertiesFor(moduleSchema, message), Encoding.UTF8.GetBytes(message.Payload), ct);
                        outcomes[i] = DeliveryOutcome.Delivered;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                    {
                        // Not confirmed (broker down, nack): this and the aggregate's later events stay pending.
                        Interlocked.CompareExchange(ref firstFailure, ex, null);
                        return;
                    }
                }
            });
        if (firstFailure is not null)
        {
            var unconfirmed = outcomes.Count(o => !o.Sent);
            if (firstFailure is AlreadyClosedException closed)
            {
                LogBrokerUnavailable(logger, unconfirmed, closed.Message);
            }
            else
            {
                LogPublishFailed(logger, firstFailure, unconfirmed);
            }
        }
        return outcomes;
    }

    /// <summary>The publishing channel (confirms on); a new one when the broker closed it while the connection lives.</summary>
    private async Task<IChannel> ChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } open)
        {
            return open;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var conn = await connection.GetAsync(cancellationToken);
            if (_channel is { IsOpen: false } closed && conn.IsOpen)
            {
                closed.Dispose();
                _channel = null;
            }
            if (_channel is null)
            {
                var channel = await conn.CreateChannelAsync(new CreateChannelOptions(
                    publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
                await topology.DeclareAsync(channel, cancellationToken);
                _channel = channel;
            }
            return _channel;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_channel is { } channel)
        {
            try
            {
                await channel.CloseAsync();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The broker may be gone already.
            }
            channel.Dispose();
        }
        _gate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} messages were not confirmed by RabbitMQ and stay in the outbox")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RabbitMQ is not reachable ({Reason}); {Count} messages stay in the outbox until it is")]
    private static partial void LogBrokerUnavailable(ILogger logger, int count, string reason);
}
