using System.Net;
using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;

namespace FlashMall.ApiTests;

public sealed class RateLimitedFactory : FlashMallFactory
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["RateLimiting:Enabled"] = "true";
        Settings["Accounts:AuthRequestsPerIpPerMinute"] = "3";
        Settings["Accounts:MaxFailedLoginsPerIp"] = "100";
    }
}

public sealed class RateLimitTests(RateLimitedFactory factory) : IClassFixture<RateLimitedFactory>
{
    [Fact]
    public async Task Sign_in_requests_past_the_per_ip_limit_are_429_with_retry_after()
    {
        using var client = factory.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            await (await client.PostAsJsonAsync("/api/accounts/login", new { login = "nobody@flashmall.test", password = "whatever-1" }))
                .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_credentials");
        }

        var limited = await client.PostAsJsonAsync("/api/accounts/login", new { login = "nobody@flashmall.test", password = "whatever-1" });

        await limited.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        // Catalog reads are not behind the sign-in limit.
        await (await client.GetAsync("/api/products")).EnsureStatusAsync(HttpStatusCode.OK);
    }
}

public sealed class IpLockoutFactory : FlashMallFactory
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Accounts:MaxFailedLoginsPerIp"] = "4";
    }
}

/// <summary>Credential stuffing spreads guesses over many accounts; failures are counted per IP too.</summary>
public sealed class IpLockoutTests(IpLockoutFactory factory) : IClassFixture<IpLockoutFactory>
{
    [Fact]
    public async Task Failed_logins_across_accounts_from_one_ip_block_that_ip()
    {
        var victim = await factory.NewUserAsync();
        using var client = factory.CreateClient();
        for (var i = 0; i < 4; i++)
        {
            await (await client.PostAsJsonAsync("/api/accounts/login", new { login = $"guess-{i}@flashmall.test", password = "123456789" }))
                .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_credentials");
        }

        await (await client.PostAsJsonAsync("/api/accounts/login", new { login = victim.Email, password = victim.Password }))
            .ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "too_many_failed_logins");
    }
}

public sealed class PurchaseRateLimitedFactory : FlashMallFactory
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["RateLimiting:Enabled"] = "true";
        Settings["Accounts:AuthRequestsPerIpPerMinute"] = "1000";
    }
}

/// <summary>A buyer (not an address: carriers put thousands of phones behind one) is limited on the purchase endpoint.</summary>
public sealed class PurchaseRateLimitTests(PurchaseRateLimitedFactory factory) : IClassFixture<PurchaseRateLimitedFactory>
{
    [Fact]
    public async Task A_buyer_hammering_purchase_gets_429_with_retry_after_and_refused_requests_reserve_nothing()
    {
        using var admin = await factory.AdminClientAsync();
        var sale = await factory.LiveSaleAsync(admin, quantity: 100, perUserLimit: 100);
        using var buyer = factory.ClientWithToken(factory.BuyerToken(Guid.NewGuid()));
        using var otherBuyer = factory.ClientWithToken(factory.BuyerToken(Guid.NewGuid()));

        // All at once, so they land within one or two of the one-second windows even on a slow machine.
        var answers = (await Task.WhenAll(Enumerable.Range(0, 12)
            .Select(_ => buyer.PostAsJsonAsync($"/api/flash-sales/{sale}/purchase", new { quantity = 1 })))).ToList();

        var limited = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        await limited[0].ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.True(limited[0].Headers.RetryAfter?.Delta > TimeSpan.Zero);
        var accepted = answers.Count(a => a.StatusCode == HttpStatusCode.Accepted);
        Assert.InRange(accepted, 1, 10); // 5 a second; 12 quick requests span at most two windows
        Assert.Equal(12, accepted + limited.Count);
        Assert.Equal(accepted, (await factory.StoredAsync(sale)).Reservations);
        // Another buyer behind the same address is not held back by the first one's limit.
        await (await otherBuyer.PostAsJsonAsync($"/api/flash-sales/{sale}/purchase", new { quantity = 1 })).EnsureStatusAsync(HttpStatusCode.Accepted);
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }
}

public sealed class PurchasePerIpFactory : FlashMallFactory
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["RateLimiting:Enabled"] = "true";
        Settings["Accounts:AuthRequestsPerIpPerMinute"] = "1000";
        Settings["FlashSales:PurchasesPerIpPerMinute"] = "4";
    }
}

/// <summary>Many buyers behind one address share its (generous, here tiny) per-IP purchase budget.</summary>
public sealed class PurchasePerIpLimitTests(PurchasePerIpFactory factory) : IClassFixture<PurchasePerIpFactory>
{
    [Fact]
    public async Task Buyers_behind_one_address_share_its_purchase_budget()
    {
        using var admin = await factory.AdminClientAsync();
        var sale = await factory.LiveSaleAsync(admin, quantity: 100, perUserLimit: 1);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var buyer = factory.ClientWithToken(factory.BuyerToken(Guid.NewGuid()));
            using var response = await buyer.PostAsJsonAsync($"/api/flash-sales/{sale}/purchase", new { quantity = 1 });
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
            }
        }

        Assert.Equal(4, statuses.Count(s => s == HttpStatusCode.Accepted));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(4, (await factory.StoredAsync(sale)).Reservations);
    }
}
