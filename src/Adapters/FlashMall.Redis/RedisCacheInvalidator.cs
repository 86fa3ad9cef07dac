using System.Text.Json;
using FlashMall.Kernel.Caching;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlashMall.Redis;

internal sealed record RedisInvalidationChannel(RedisChannel Channel);

/// <summary>
/// Removes entries from this node's L1 and from Redis, then publishes the keys and tags so every
/// other node drops its L1 copy too. A node that misses a message (Redis down) serves its copy
/// until the L1 expiry (<see cref="CachingRegistration.LocalExpiration"/>).
/// </summary>
internal sealed partial class RedisCacheInvalidator(
    HybridCache cache, IConnectionMultiplexer redis, RedisInvalidationChannel channel, ILogger<RedisCacheInvalidator> logger)
    : ICacheInvalidator, IHostedService
{
    private readonly string _nodeId = Guid.NewGuid().ToString("N");

    public async ValueTask InvalidateAsync(IReadOnlyList<string> keys, IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        await cache.RemoveAsync(keys, cancellationToken);
        await cache.RemoveByTagAsync(tags, cancellationToken);
        var message = JsonSerializer.Serialize(new InvalidationMessage(_nodeId, keys, tags), InvalidationJson.Default.InvalidationMessage);
        try
        {
            await redis.GetSubscriber().PublishAsync(channel.Channel, message);
        }
        catch (RedisException ex)
        {
            LogPublishFailed(logger, ex);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var queue = await redis.GetSubscriber().SubscribeAsync(channel.Channel);
        queue.OnMessage(async message =>
        {
            var invalidation = JsonSerializer.Deserialize(message.Message.ToString(), InvalidationJson.Default.InvalidationMessage);
            if (invalidation is null || invalidation.Node == _nodeId)
            {
                return;
            }
            // Local removal only matters here (L2 is already clean); HybridCache removes from both.
            await cache.RemoveAsync(invalidation.Keys);
            await cache.RemoveByTagAsync(invalidation.Tags);
        });
    }

    public Task StopAsync(CancellationToken cancellationToken) => redis.GetSubscriber().UnsubscribeAsync(channel.Channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish a cache invalidation; other nodes keep their copy until it expires")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception);
}

internal sealed record InvalidationMessage(string Node, IReadOnlyList<string> Keys, IReadOnlyList<string> Tags);

[System.Text.Json.Serialization.JsonSerializable(typeof(InvalidationMessage))]
internal sealed partial class InvalidationJson : System.Text.Json.Serialization.JsonSerializerContext;
