using System.Net;
using FlashMall.ApiTests.Infrastructure;

namespace FlashMall.ApiTests;

/// <summary>Request-rate limits with small numbers so a test can reach them: 10 per device, 15 per user, 1000 per IP, per minute.</summary>
public class SmallRateLimitsFactory : FlashMallFactory
{
    public SmallRateLimitsFactory()
    {
    }

    protected SmallRateLimitsFactory(FlashMallFactory shareStoresWith)
        : base(shareStoresWith)
    {
    }

    /// <summary>Redis both nodes share; null: the node's own memory.</summary>
    public string? Redis { get; init; }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["RateLimiting:Enabled"] = "true";
        Settings["RateLimiting:PerDevice:Limit"] = "10";
        Settings["RateLimiting:PerUser:Limit"] = "15";
        Settings["RateLimiting:PerIp:Limit"] = "1000";
        if (Redis is not null)
        {
            Settings["ConnectionStrings:Redis"] = Redis;
        }
    }
}

public sealed class SmallRateLimitsSecondNode(FlashMallFactory first) : SmallRateLimitsFactory(first);

/// <summary>Per-device and per-user request limits: exact on one node, and held across two nodes sharing Redis (the combined allowance is the limit).</summary>
public sealed class DistributedRateLimitTests
{
    [Fact]
    public async Task One_node_allows_exactly_the_per_device_limit_then_429_with_retry_after()
    {
        await using var node = new SmallRateLimitsFactory();
        await ((IAsyncLifetime)node).InitializeAsync();
        using var client = node.CreateClient();
        var (allowed, refused) = await FloodAsync([client], device: Guid.NewGuid().ToString("N"), requests: 25);
        Assert.Equal(10, allowed);
        Assert.Equal(15, refused);
        // Another device from the same address is its own window.
        Assert.Equal(10, (await FloodAsync([client], device: Guid.NewGuid().ToString("N"), requests: 12)).Allowed);
    }

    [Fact]
    public async Task Two_nodes_sharing_redis_allow_the_per_device_and_per_user_limits_once_between_them()
    {
        await using var redis = await PrivateRedis.StartAsync();
        await using var nodeA = new SmallRateLimitsFactory { Redis = redis.ConnectionString };
        await ((IAsyncLifetime)nodeA).InitializeAsync();
        await using var nodeB = new SmallRateLimitsSecondNode(nodeA) { Redis = redis.ConnectionString };
        await ((IAsyncLifetime)nodeB).InitializeAsync();
        using var a = nodeA.CreateClient();
        using var b = nodeB.CreateClient();

        var (allowed, refused) = await FloodAsync([a, b], device: Guid.NewGuid().ToString("N"), requests: 30);
        Assert.Equal(10, allowed);
        Assert.Equal(20, refused);

        // Per user: one buyer's token on both nodes, each request from a fresh device.
        var userId = Guid.NewGuid();
        using var buyerA = nodeA.Buyer(userId);
        using var buyerB = nodeB.Buyer(userId);
        var perUser = await FloodAsync([buyerA, buyerB], device: null, requests: 30);
        Assert.Equal(15, perUser.Allowed);
        Assert.Equal(15, perUser.Refused);
    }

    /// <summary>Sends <paramref name="requests"/> GETs of a core endpoint alternately through <paramref name="clients"/>; counts 200s and 429 rate_limited.</summary>
    private static async Task<(int Allowed, int Refused)> FloodAsync(HttpClient[] clients, string? device, int requests)
    {
        var allowed = 0;
        var refused = 0;
        for (var i = 0; i < requests; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/flash-sales");
            request.Headers.Add("X-Device-Id", device ?? Guid.NewGuid().ToString("N"));
            using var response = await clients[i % clients.Length].SendAsync(request);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                allowed++;
                continue;
            }
            await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
            Assert.True(response.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 and <= 60 }, $"Retry-After {response.Headers.RetryAfter}");
            refused++;
        }
        return (allowed, refused);
    }
}
