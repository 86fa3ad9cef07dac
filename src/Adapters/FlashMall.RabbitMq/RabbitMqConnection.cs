using FlashMall.Kernel.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace FlashMall.RabbitMq;

/// <summary>
/// The node's one connection to the broker. The client recovers it, its channels, declarations
/// and consumers after a broker restart; until the first connect succeeds, callers retry.
/// </summary>
internal sealed partial class RabbitMqConnection(IOptions<RabbitMqConnectionOptions> options, ILogger<RabbitMqConnection> logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    public bool IsOpen => _connection?.IsOpen ?? false;

    public async Task<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } open)
        {
            return open;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is null)
            {
                var factory = new ConnectionFactory
                {
                    Uri = new Uri(options.Value.ConnectionString),
                    AutomaticRecoveryEnabled = true,
                    TopologyRecoveryEnabled = true,
                    NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
                    RequestedHeartbeat = TimeSpan.FromSeconds(15),
                    ClientProvidedName = $"flashmall/{Environment.MachineName}/{Environment.ProcessId}",
                };
                // Bounded: RabbitMQ.Client waits for the broker's connection.start without a timeout, and a
                // broker that accepts the socket but never answers (seen on a wedged test broker) would
                // hold this gate, and every publisher and consumer behind it, until the node stops.
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(options.Value.ConnectTimeout);
                IConnection connection;
                try
                {
                    connection = await factory.CreateConnectionAsync(timeout.Token);
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new InvalidOperationException(
                        $"RabbitMQ accepted the connection but did not complete the handshake within {options.Value.ConnectTimeout.TotalSeconds:0} s.", ex);
                }
                connection.ConnectionShutdownAsync += (_, e) =>
                {
                    if (e.Initiator != ShutdownInitiator.Application)
                    {
                        LogConnectionLost(logger, e.ReplyText);
                    }
                    return Task.CompletedTask;
                };
                connection.RecoverySucceededAsync += (_, _) =>
                {
                    LogRecovered(logger);
                    return Task.CompletedTask;
                };
                _connection = connection;
            }
            return _connection;
        }
        catch (BrokerUnreachableException ex)
        {
            throw new InvalidOperationException("RabbitMQ is unreachable.", ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            try
            {
                await connection.CloseAsync();
            }
            catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException)
            {
                // Closing a connection to a broker that is gone.
            }
            connection.Dispose();
        }
        _gate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection to RabbitMQ lost ({Reason}); recovering")]
    private static partial void LogConnectionLost(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection to RabbitMQ recovered")]
    private static partial void LogRecovered(ILogger logger);
}

/// <summary>How a FlashMall outbox message travels: body is the event's JSON; headers locate its outbox row.</summary>
internal static class RabbitMqMessage
{
    public const string ModuleHeader = "flashmall-module";
    public const string AggregateHeader = "flashmall-aggregate";
    public const string SequenceHeader = "flashmall-sequence";

    public static BasicProperties PropertiesFor(string module, OutboxMessage message)
    {
        var properties = PropertiesWithoutTrace(module, message);
        // W3C trace context, also inside the payload (the consumer's span is started from that one).
        if (FlashMall.Kernel.Observability.TraceEnvelope.TraceParentOf(message.Payload) is { } traceParent)
        {
            properties.Headers![TraceParentHeader] = traceParent;
        }
        return properties;
    }

    /// <summary>The W3C trace context header of a published event.</summary>
    public const string TraceParentHeader = "traceparent";

    private static BasicProperties PropertiesWithoutTrace(string module, OutboxMessage message) => new()
    {
        Persistent = true,
        MessageId = message.Id.ToString(),
        Type = message.Type,
        ContentType = "application/json",
        Timestamp = new AmqpTimestamp(message.CreatedAt.ToUnixTimeSeconds()),
        Headers = new Dictionary<string, object?>
        {
            [ModuleHeader] = module,
            [AggregateHeader] = message.AggregateId,
            [SequenceHeader] = message.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
    };

    /// <summary>The message's place in the outboxes, or null when it is not one of ours.</summary>
    public static (OutboxAddress Address, string AggregateId, long Sequence)? Locate(IReadOnlyBasicProperties properties)
    {
        if (!Guid.TryParse(properties.MessageId, out var id)
            || Header(properties, ModuleHeader) is not { Length: > 0 } module
            || Header(properties, AggregateHeader) is not { } aggregate
            || !long.TryParse(Header(properties, SequenceHeader), System.Globalization.CultureInfo.InvariantCulture, out var sequence))
        {
            return null;
        }
        return (new OutboxAddress(module, id), aggregate, sequence);
    }

    /// <summary>A string header (the broker hands strings back as UTF-8 bytes).</summary>
    public static string? Header(IReadOnlyBasicProperties properties, string name) =>
        properties.Headers?.TryGetValue(name, out var value) == true
            ? value switch
            {
                byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
                string text => text,
                null => null,
                _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
            }
            : null;
}
