using FlashMall.Kernel.Caching;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace FlashMall.Redis;

/// <summary><c>Cache:*</c>: naming of shared cache entries.</summary>
public sealed class SharedCacheOptions
{
    public const string SectionName = "Cache";

    /// <summary>Prefix of every key and channel, so several deployments (or test runs) can share one Redis.</summary>
    public string KeyPrefix { get; set; } = "flashmall:";
}

public static class RedisRegistration
{
    public const string ConnectionName = "Redis";

    /// <summary>
    /// When <c>ConnectionStrings:Redis</c> is set: Redis becomes HybridCache's L2 and carries
    /// invalidations to every node. Without it the embedded in-process cache stays.
    /// </summary>
    public static IHostApplicationBuilder AddRedisWhenConfigured(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return builder;
        }

        var options = ConfigurationOptions.Parse(connectionString);
        // Start even when Redis is down (ready turns 503) and reconnect by itself.
        options.AbortOnConnectFail = false;
        // Replies are read on the .NET thread pool, not on the client's own reader threads: on a
        // few cores those threads and the pool took turns on every reply (per-thread CPU: 7–11%
        // of the node's in the Redis ledger's purchase load, most of it context switches), and
        // nothing of ours blocks a pool thread (SQLite writers and scheduled jobs have their own).
        // docs/BENCHMARKS.md, "Runs R to V": about a sixth less CPU per purchase.
        options.SocketManager = SocketManager.ThreadPool;
        var prefix = builder.Configuration.GetValue($"{SharedCacheOptions.SectionName}:{nameof(SharedCacheOptions.KeyPrefix)}", new SharedCacheOptions().KeyPrefix)!;

        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        builder.Services.AddStackExchangeRedisCache(_ => { });
        builder.Services.AddOptions<Microsoft.Extensions.Caching.StackExchangeRedis.RedisCacheOptions>()
            .Configure<IConnectionMultiplexer>((cache, multiplexer) =>
            {
                cache.InstanceName = prefix;
                cache.ConnectionMultiplexerFactory = () => Task.FromResult(multiplexer);
            });

        builder.Services.AddSingleton(new RedisInvalidationChannel(RedisChannel.Literal($"{prefix}cache-invalidation")));
        builder.Services.AddSingleton<RedisCacheInvalidator>();
        builder.Services.AddSingleton<ICacheInvalidator>(sp => sp.GetRequiredService<RedisCacheInvalidator>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RedisCacheInvalidator>());

        // Request-rate limits and signed-request nonces hold across nodes (registered after the
        // kernel's in-process ones, so these are the ones resolved).
        builder.Services.AddSingleton<FlashMall.Kernel.Http.IRequestRateCounters>(sp => new RedisRequestRateCounters(
            sp.GetRequiredService<IConnectionMultiplexer>(), prefix, sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<RedisRequestRateCounters>>()));
        builder.Services.AddSingleton<FlashMall.Kernel.Http.INonceStore>(sp => new RedisNonceStore(
            sp.GetRequiredService<IConnectionMultiplexer>(), prefix, sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<RedisNonceStore>>()));

        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [FlashMall.Kernel.Persistence.DatabaseRegistration.ReadyTag]);
        return builder;
    }
}

internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"ping {latency.TotalMilliseconds:F1} ms");
        }
        catch (RedisException ex)
        {
            return HealthCheckResult.Unhealthy("Redis does not answer.", ex);
        }
    }
}
