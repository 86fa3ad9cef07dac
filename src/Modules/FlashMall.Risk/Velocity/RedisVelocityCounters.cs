using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlashMall.Risk.Velocity;

/// <summary>
/// Counters every node shares: one small script per window, atomically <c>INCR</c> and, on a
/// window's first attempt, <c>PEXPIRE</c> — Redis's clock decides when a window ends, so nodes'
/// clocks do not matter. One key per window (<c>{Cache:KeyPrefix}risk:{rule}:{key}</c>), each
/// script touching one key, so it runs on a Redis Cluster too; a call's windows go out pipelined.
/// If Redis does not answer, the attempt is allowed (logged): velocity is a brake on abuse, not a
/// reason to stop buyers while Redis fails over; the block list and cool-down still hold.
/// </summary>
internal sealed partial class RedisVelocityCounters(IConnectionMultiplexer redis, RedisVelocityKeys keys, ILogger<RedisVelocityCounters> logger) : IVelocityCounters
{
    // A key left without an expiry (it cannot happen through this script, but a restore could) gets one.
    private const string CountScript = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
        end
        return n
        """;

    public async Task<long[]> CountAsync(IReadOnlyList<VelocityWindow> windows, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var calls = new Task<RedisResult>[windows.Count];
        for (var i = 0; i < windows.Count; i++)
        {
            calls[i] = db.ScriptEvaluateAsync(CountScript, [keys.For(windows[i])], [(long)windows[i].Length.TotalMilliseconds]);
        }
        try
        {
            await Task.WhenAll(calls);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogRedisUnavailable(logger, ex);
            return new long[windows.Count];
        }
        return [.. calls.Select(c => (long)c.Result)];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Velocity counters in Redis did not answer: the attempt was allowed without them")]
    private static partial void LogRedisUnavailable(ILogger logger, Exception exception);
}

/// <summary>Where the counters live: <c>Cache:KeyPrefix</c> + <c>risk:{rule}:{key}</c>.</summary>
internal sealed class RedisVelocityKeys(string prefix)
{
    public RedisKey For(VelocityWindow window) => $"{prefix}risk:{window.Rule}:{window.Key}";
}
