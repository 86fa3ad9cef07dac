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
