using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashMall.Ops.Switches;

/// <summary>Tells the other nodes that the switches changed (after the change is committed).</summary>
internal interface ISwitchSignal
{
    Task PublishAsync(CancellationToken cancellationToken);
}

/// <summary>Without Redis: nothing to send; every node polls the store.</summary>
internal sealed class NoSwitchSignal : ISwitchSignal
{
    public Task PublishAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// With Redis: a message on <c>{Cache:KeyPrefix}ops:switches</c> after every committed change;
/// every node (this one too) reloads its snapshot from the store when one arrives. A lost message
/// costs at most one poll interval.
/// </summary>
internal sealed partial class RedisSwitchSignal(
    IConnectionMultiplexer redis, SwitchSnapshot snapshot, string keyPrefix, ILogger<RedisSwitchSignal> logger) : ISwitchSignal, IHostedService
{
    private readonly RedisChannel _channel = RedisChannel.Literal($"{keyPrefix}ops:switches");

    public async Task PublishAsync(CancellationToken cancellationToken)
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(_channel, "changed");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogPublishFailed(logger, ex);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var queue = await redis.GetSubscriber().SubscribeAsync(_channel);
        queue.OnMessage(async _ =>
        {
            try
            {
                await snapshot.ReloadAsync(CancellationToken.None);
            }
            catch (Exception ex)
            {
                LogReloadFailed(logger, ex);
            }
        });
    }

    public Task StopAsync(CancellationToken cancellationToken) => redis.GetSubscriber().UnsubscribeAsync(_channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish a switch change; other nodes follow it at their next poll")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not reload the switches after a change message; the next poll retries")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception);
}

/// <summary>Re-reads the switches every <c>Ops:PollInterval</c> (1 s): the fallback to pub/sub, and the only path without Redis.</summary>
internal sealed partial class SwitchPoller(SwitchSnapshot snapshot, IOptions<OpsOptions> options, ILogger<SwitchPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Wall-clock, not TimeProvider: polling is about real seconds.
        using var timer = new PeriodicTimer(options.Value.PollInterval);;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await snapshot.ReloadAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogPollFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the switches; this node keeps its last snapshot")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);
}
