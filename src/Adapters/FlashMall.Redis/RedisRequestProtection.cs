using FlashMall.Kernel.Http;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlashMall.Redis;

/// <summary>
/// Request-rate windows every node shares (the pattern of Risk's velocity counters): one small
/// script per window atomically <c>INCR</c>s and, on the window's first request, <c>PEXPIRE</c>s
/// its key (<c>{Cache:KeyPrefix}rl:{key}</c>) and answers the count and the time left — Redis's
/// clock ends windows, so nodes' clocks do not matter; one key per script, so it runs on a Redis
/// Cluster. If Redis does not answer, the request is allowed (logged): a rate limit is a brake,
/// not a reason to stop buyers while Redis fails over.
/// </summary>
internal sealed partial class RedisRequestRateCounters(IConnectionMultiplexer redis, string prefix, ILogger<RedisRequestRateCounters> logger) : IRequestRateCounters
{
    private const string CountScript = """
        local n = redis.call('INCR', KEYS[1])
        local ttl = redis.call('PTTL', KEYS[1])
        if n == 1 or ttl < 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
          ttl = tonumber(ARGV[1])
        end
        return {n, ttl}
        """;

    public async ValueTask<RateCount[]> CountAsync(IReadOnlyList<RateWindow> windows, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var calls = new Task<RedisResult>[windows.Count];
        for (var i = 0; i < windows.Count; i++)
        {
            calls[i] = db.ScriptEvaluateAsync(CountScript, [(RedisKey)$"{prefix}rl:{windows[i].Key}"], [(long)windows[i].Window.TotalMilliseconds]);
        }
        try
        {
            await Task.WhenAll(calls);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogRedisUnavailable(logger, ex);
            return [.. windows.Select(w => new RateCount(1, w.Window))];
        }
        return [.. calls.Select(c =>
        {
            var result = (RedisResult[])c.Result!;
            return new RateCount((long)result[0], TimeSpan.FromMilliseconds((long)result[1]));
        })];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request-rate counters in Redis did not answer: the request was allowed without them")]
    private static partial void LogRedisUnavailable(ILogger logger, Exception exception);
}

/// <summary>
/// Nonces of signed requests every node shares: <c>SET {Cache:KeyPrefix}nonce:{app}:{nonce} 1 NX PX ttl</c>
/// — the first node to set it wins, every other answer is a replay. If Redis does not answer, the
/// request is refused as a replay would be (fail closed: a signature check that cannot rule out
/// replays must not pass them).
/// </summary>
internal sealed partial class RedisNonceStore(IConnectionMultiplexer redis, string prefix, ILogger<RedisNonceStore> logger) : INonceStore
{
    public async ValueTask<bool> TryUseAsync(string key, TimeSpan ttl)
    {
        try
        {
            return await redis.GetDatabase().StringSetAsync($"{prefix}nonce:{key}", 1, ttl, When.NotExists);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogRedisUnavailable(logger, ex);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The nonce store in Redis did not answer: the signed request was refused")]
    private static partial void LogRedisUnavailable(ILogger logger, Exception exception);
}
