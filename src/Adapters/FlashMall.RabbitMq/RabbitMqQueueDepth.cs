using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlashMall.RabbitMq;

/// <summary>
/// <c>flashmall.messaging.queue.depth</c>: messages ready in each consumer queue and the
/// dead-letter queue, labelled by queue (the consumers are fixed in code: a bounded set),
/// sampled every 10 seconds with a passive declare; a scrape reads the last sample.
/// </summary>
internal sealed partial class RabbitMqQueueDepth : BackgroundService
{
    public const string MeterName = "FlashMall.RabbitMq";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly RabbitMqConnection _connection;
    private readonly RabbitMqTopology _topology;
    private readonly ILogger<RabbitMqQueueDepth> _logger;
    private volatile Dictionary<string, long> _last = new(StringComparer.Ordinal);

    public RabbitMqQueueDepth(RabbitMqConnection connection, RabbitMqTopology topology, IMeterFactory meters, ILogger<RabbitMqQueueDepth> logger)
    {
        _connection = connection;
        _topology = topology;
        _logger = logger;
        meters.Create(MeterName).CreateObservableGauge("flashmall.messaging.queue.depth",
            () => _last.Select(q => new Measurement<long>(q.Value, new KeyValuePair<string, object?>("queue", q.Key))),
            description: "Messages waiting in each RabbitMQ consumer queue (and the dead-letter queue), by queue.");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SampleAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogSampleFailed(_logger, ex.Message);
            }
            await Task.Delay(Interval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        var connection = await _connection.GetAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var next = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (label, queue) in _topology.ConsumerQueues.Keys.Select(c => (c, _topology.QueueOf(c))).Append(("dead-letters", _topology.DeadLetterQueue)))
        {
            try
            {
                next[label] = (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
            {
                // Not declared yet (the consumers declare on start): the channel is closed, so stop here.
                break;
            }
        }
        _last = next;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sampling RabbitMQ queue depths failed: {Reason}")]
    private static partial void LogSampleFailed(ILogger logger, string reason);
}
