using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Coupons.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>
/// A node whose requests come from the address in <see cref="ClientIpHeader"/> (the test server
/// has no socket, so no address of its own), with the abuse rules tight enough to trip in a test.
/// </summary>
public class RiskFactory : FlashMallFactory
{
    public const string ClientIpHeader = "X-Test-Client-Ip";
    public static readonly Guid BlockedUser = Guid.Parse("0192f0c4-0000-7000-8000-00000000b10c");
    public const string BlockedDevice = "blocked-phone-1";
    public const string BlockedNetwork = "203.0.113.0/24";

    protected virtual bool RateLimitingEnabled => true;

    protected virtual bool TightRules => true;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["RateLimiting:Enabled"] = RateLimitingEnabled ? "true" : "false";
        if (TightRules)
        {
            Settings["Risk:CouponClaims:PerUser:Limit"] = "3";
            Settings["Risk:CouponClaims:PerDevice:Limit"] = "4";
            Settings["Risk:CouponClaims:PerIp:Limit"] = "6";
            Settings["Risk:BlockList:Users:0"] = BlockedUser.ToString();
            Settings["Risk:BlockList:Devices:0"] = BlockedDevice;
            Settings["Risk:BlockList:Ips:0"] = BlockedNetwork;
        }
        ConfigureTestServices = services => services.AddSingleton<IStartupFilter, ClientIpFromHeader>();
    }

    private sealed class ClientIpFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (IPAddress.TryParse(context.Request.Headers[ClientIpHeader], out var address))
                {
                    context.Connection.RemoteIpAddress = address;
                }
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    /// <summary>A buyer's client from <paramref name="ip"/>, with <paramref name="device"/> as its <c>X-Device-Id</c> when given.</summary>
    public HttpClient Claimant(Guid userId, string ip, string? device = null)
    {
        var client = this.Buyer(userId);
        client.DefaultRequestHeaders.Add(ClientIpHeader, ip);
        if (device is not null)
        {
            client.DefaultRequestHeaders.Add("X-Device-Id", device);
        }
        return client;
    }

    public async Task<string> TemplateAsync(int total = 100, int perUser = 100, int? coolDownHours = null)
    {
        using var merchandiser = (await NewUserAsync("merchandiser")).Client;
        var created = await merchandiser.PostAsJsonAsync("/api/admin/coupon-templates", new
        {
            name = "新人礼 Welcome", kind = "amount_off", value = 500, minSpend = 0, totalQuantity = total, perUserLimit = perUser,
            validFrom = DateTimeOffset.UtcNow.AddMinutes(-1), validTo = DateTimeOffset.UtcNow.AddDays(7), newAccountCoolDownHours = coolDownHours,
        });
        return (await created.JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;
    }

    /// <summary>Coupons of <paramref name="template"/> in the store, per buyer, and the template's claimed count.</summary>
    public Task<(int Coupons, int Claimed)> StoredAsync(string template, Guid? buyer = null) => WithScopeAsync(async s =>
    {
        var db = s.GetRequiredService<CouponsDbContext>();
        var id = Guid.Parse(template);
        return (await db.Coupons.CountAsync(c => c.TemplateId == id && (buyer == null || c.UserId == buyer)),
                await db.Templates.Where(t => t.Id == id).Select(t => t.Claimed).SingleAsync());
    });

    public static async Task<HttpResponseMessage> ClaimAsync(HttpClient client, string template) =>
        await client.PostAsJsonAsync("/api/coupons/claim", new { templateId = template });

    public static async Task ShouldBeRiskBlockedAsync(HttpResponseMessage response, string rule)
    {
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "risk_blocked");
        Assert.Equal(rule, problem.GetProperty("rule").GetString());
    }

    /// <summary>The decisions log as an operator reads it (it is written just after the refusal).</summary>
    public async Task<JsonElement> DecisionsAsync(string query, int atLeast)
    {
        using var admin = await AdminClientAsync();
        JsonElement page = default;
        await LedgerScenarios.EventuallyAsync(async () =>
        {
            page = await (await admin.GetAsync($"/api/admin/risk/decisions?{query}")).JsonAsync();
            return page.GetProperty("total").GetInt32() >= atLeast;
        }, $"{atLeast} decisions for {query}", seconds: 10);
        return page;
    }
}

/// <summary>The rules as configured, with request-rate limits on.</summary>
public sealed class RiskTests(RiskFactory factory) : IClassFixture<RiskFactory>
{
    [Fact]
    public async Task A_buyer_past_the_per_user_velocity_is_refused_403_risk_blocked_and_gets_no_coupon()
    {
        var template = await factory.TemplateAsync();
        var buyer = Guid.NewGuid();
        using var client = factory.Claimant(buyer, "198.51.100.1");
        for (var i = 0; i < 3; i++)
        {
            await (await RiskFactory.ClaimAsync(client, template)).EnsureStatusAsync(HttpStatusCode.Created);
        }

        await RiskFactory.ShouldBeRiskBlockedAsync(await RiskFactory.ClaimAsync(client, template), "user_velocity");

        Assert.Equal((3, 3), await factory.StoredAsync(template));
        Assert.Equal(3, (await (await client.GetAsync("/api/coupons")).JsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task One_device_claiming_for_many_accounts_is_refused_past_the_per_device_velocity()
    {
        var template = await factory.TemplateAsync();
        for (var i = 0; i < 4; i++)
        {
            using var farmed = factory.Claimant(Guid.NewGuid(), "198.51.100.2", device: "farm-phone-7");
            await (await RiskFactory.ClaimAsync(farmed, template)).EnsureStatusAsync(HttpStatusCode.Created);
        }
        var fifth = Guid.NewGuid();
        using var sameDevice = factory.Claimant(fifth, "198.51.100.2", device: "farm-phone-7");

        await RiskFactory.ShouldBeRiskBlockedAsync(await RiskFactory.ClaimAsync(sameDevice, template), "device_velocity");

        Assert.Equal((0, 4), await factory.StoredAsync(template, fifth));
        using var ownDevice = factory.Claimant(fifth, "198.51.100.2", device: "own-phone-5");
        await (await RiskFactory.ClaimAsync(ownDevice, template)).EnsureStatusAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task One_address_claiming_for_many_accounts_is_refused_past_the_per_ip_velocity()
    {
        var template = await factory.TemplateAsync();
        for (var i = 0; i < 6; i++)
        {
            using var sameAddress = factory.Claimant(Guid.NewGuid(), "198.51.100.3");
            await (await RiskFactory.ClaimAsync(sameAddress, template)).EnsureStatusAsync(HttpStatusCode.Created);
        }
        var seventh = Guid.NewGuid();
        using var refused = factory.Claimant(seventh, "198.51.100.3");

        await RiskFactory.ShouldBeRiskBlockedAsync(await RiskFactory.ClaimAsync(refused, template), "ip_velocity");

        Assert.Equal((0, 6), await factory.StoredAsync(template, seventh));
        using var elsewhere = factory.Claimant(seventh, "198.51.100.4");
        await (await RiskFactory.ClaimAsync(elsewhere, template)).EnsureStatusAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Block_listed_users_devices_and_addresses_are_refused_and_nothing_is_written()
    {
        var template = await factory.TemplateAsync();
        using var blockedUser = factory.Claimant(RiskFactory.BlockedUser, "198.51.100.5");
        using var blockedDevice = factory.Claimant(Guid.NewGuid(), "198.51.100.5", device: RiskFactory.BlockedDevice);
        using var blockedAddress = factory.Claimant(Guid.NewGuid(), "203.0.113.77");

        await RiskFactory.ShouldBeRiskBlockedAsync(await RiskFactory.ClaimAsync(blockedUser, template), "blocked_user");
        await RiskFactory.ShouldBeRiskBlockedAsync(await RiskFactory.ClaimAsync(blockedDevice, template), "blocked_device");
        await RiskFactory.ShouldBeRiskBlockedAsync(await RiskFactory.ClaimAsync(blockedAddress, template), "blocked_ip");

        Assert.Equal((0, 0), await factory.StoredAsync(template));
    }

    [Fact]
    public async Task The_block_list_refuses_every_api_request_with_its_rule_logs_each_and_never_the_health_probes()
    {
        using var blockedUser = factory.Claimant(RiskFactory.BlockedUser, "198.51.100.21");
        using var blockedDevice = factory.Claimant(Guid.NewGuid(), "198.51.100.21", device: RiskFactory.BlockedDevice);
        using var blockedAddress = factory.Claimant(Guid.NewGuid(), "203.0.113.200");
        using var anonymousFromBlockedRange = factory.CreateClient();
        anonymousFromBlockedRange.DefaultRequestHeaders.Add(RiskFactory.ClientIpHeader, "203.0.113.201");
        using var fine = factory.Claimant(Guid.NewGuid(), "198.51.100.22");

        await RiskFactory.ShouldBeRiskBlockedAsync(await blockedUser.GetAsync("/api/orders"), "blocked_user");
        await RiskFactory.ShouldBeRiskBlockedAsync(await blockedDevice.GetAsync("/api/cart"), "blocked_device");
        await RiskFactory.ShouldBeRiskBlockedAsync(await blockedAddress.GetAsync("/api/accounts/me"), "blocked_ip");
        await RiskFactory.ShouldBeRiskBlockedAsync(await anonymousFromBlockedRange.GetAsync("/api/flash-sales"), "blocked_ip");
        // A blocked range cannot even register.
        var register = await anonymousFromBlockedRange.PostAsJsonAsync("/api/accounts/register", new { email = $"b{Guid.NewGuid():N}@example.com", password = "a-long-enough-password" });
        await RiskFactory.ShouldBeRiskBlockedAsync(register, "blocked_ip");
        // Probes and the unlisted pass.
        Assert.Equal(HttpStatusCode.OK, (await anonymousFromBlockedRange.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fine.GetAsync("/api/orders")).StatusCode);

        // The decision is written behind the answer, and other tests' refusals of the same blocked
        // user are in the log too: wait for this one.
        using var admin = await factory.AdminClientAsync();
        await LedgerScenarios.EventuallyAsync(async () =>
        {
            var logged = await (await admin.GetAsync($"/api/admin/risk/decisions?rule=blocked_user&userId={RiskFactory.BlockedUser}&pageSize=100")).JsonAsync();
            return logged.GetProperty("items").EnumerateArray().Any(d =>
                d.GetProperty("action").GetString() == "request" && d.GetProperty("subject").GetString() == "GET /api/orders"
                && d.GetProperty("ip").GetString() == "198.51.100.21");
        }, "the refusal of GET /api/orders from 198.51.100.21 in the decisions log", seconds: 10);
    }

    [Fact]
    public async Task A_template_with_a_cool_down_refuses_a_fresh_account_and_one_without_lets_it_claim()
    {
        var guarded = await factory.TemplateAsync(coolDownHours: 24);
        var open = await factory.TemplateAsync(coolDownHours: 0);
        var fresh = await factory.NewUserAsync();
        fresh.Client.DefaultRequestHeaders.Add(RiskFactory.ClientIpHeader, "198.51.100.6");

        await RiskFactory.ShouldBeRiskBlockedAsync(await RiskFactory.ClaimAsync(fresh.Client, guarded), "new_account_cool_down");
        await (await RiskFactory.ClaimAsync(fresh.Client, open)).EnsureStatusAsync(HttpStatusCode.Created);

        Assert.Equal((0, 0), await factory.StoredAsync(guarded));
        // A token for an account Accounts does not know cannot prove its age either.
        using var unknown = factory.Claimant(Guid.NewGuid(), "198.51.100.6");
        await RiskFactory.ShouldBeRiskBlockedAsync(await RiskFactory.ClaimAsync(unknown, guarded), "new_account_cool_down");
    }

    [Fact]
    public async Task Cool_downs_outside_zero_to_a_year_are_refused()
    {
        using var merchandiser = (await factory.NewUserAsync("merchandiser")).Client;
        foreach (var hours in new[] { -1, 24 * 365 + 1 })
        {
            var response = await merchandiser.PostAsJsonAsync("/api/admin/coupon-templates", new
            {
                name = "x", kind = "amount_off", value = 5, minSpend = 0, totalQuantity = 1, perUserLimit = 1,
                validFrom = DateTimeOffset.UtcNow, validTo = DateTimeOffset.UtcNow.AddDays(1), newAccountCoolDownHours = hours,
            });
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
            Assert.True(problem.GetProperty("errors").TryGetProperty("newAccountCoolDownHours", out _));
        }
    }

    [Fact]
    public async Task A_malformed_device_id_is_400_and_takes_no_coupon()
    {
        var template = await factory.TemplateAsync();
        var buyer = Guid.NewGuid();
        foreach (var device in new[] { new string('x', 65), "two words" })
        {
            using var client = factory.Claimant(buyer, "198.51.100.7", device);
            await (await RiskFactory.ClaimAsync(client, template)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        }
        Assert.Equal((0, 0), await factory.StoredAsync(template));
    }

    [Fact]
    public async Task Operators_read_each_refusal_with_its_rule_in_the_decisions_log_and_buyers_cannot()
    {
        var template = await factory.TemplateAsync();
        using var blocked = factory.Claimant(RiskFactory.BlockedUser, "198.51.100.8", device: "decision-phone");
        await RiskFactory.ShouldBeRiskBlockedAsync(await RiskFactory.ClaimAsync(blocked, template), "blocked_user");
        var hoarder = Guid.NewGuid();
        using var hoarding = factory.Claimant(hoarder, "198.51.100.9");
        for (var i = 0; i < 5; i++)
        {
            await RiskFactory.ClaimAsync(hoarding, template);
        }

        var hoarderLog = await factory.DecisionsAsync($"userId={hoarder}", atLeast: 2);
        Assert.Equal(2, hoarderLog.GetProperty("total").GetInt32());
        var newest = hoarderLog.GetProperty("items")[0];
        Assert.Equal("user_velocity", newest.GetProperty("rule").GetString());
        Assert.Equal("coupon.claim", newest.GetProperty("action").GetString());
        Assert.Equal(hoarder.ToString(), newest.GetProperty("userId").GetString());
        Assert.Equal("198.51.100.9", newest.GetProperty("ip").GetString());
        Assert.Equal(template, newest.GetProperty("subject").GetString());
        Assert.False(string.IsNullOrEmpty(newest.GetProperty("detail").GetString()));
        Assert.True(newest.GetProperty("at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));

        var blockedLog = await factory.DecisionsAsync($"rule=blocked_user&userId={RiskFactory.BlockedUser}&pageSize=100", atLeast: 1);
        Assert.All(blockedLog.GetProperty("items").EnumerateArray(), d => Assert.Equal("blocked_user", d.GetProperty("rule").GetString()));
        Assert.Contains(blockedLog.GetProperty("items").EnumerateArray(), d => d.GetProperty("deviceId").GetString() == "decision-phone");
        Assert.Equal(100, blockedLog.GetProperty("pageSize").GetInt32());
        Assert.Equal(1, blockedLog.GetProperty("page").GetInt32());

        using var buyer = factory.Buyer(Guid.NewGuid());
        await (await buyer.GetAsync("/api/admin/risk/decisions")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        using var anonymous = factory.CreateClient();
        await (await anonymous.GetAsync("/api/admin/risk/decisions")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        using var admin = await factory.AdminClientAsync();
        await (await admin.GetAsync("/api/admin/risk/decisions?userId=nope")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }
}

/// <summary><c>RateLimiting:Enabled=false</c> with the same rules.</summary>
public sealed class RiskLimitsLiftedFactory : RiskFactory
{
    protected override bool RateLimitingEnabled => false;
}

public sealed class RiskLimitsLiftedTests(RiskLimitsLiftedFactory factory) : IClassFixture<RiskLimitsLiftedFactory>
{
    [Fact]
    public async Task Lifting_rate_limits_lifts_the_velocity_rules_but_not_the_block_list()
    {
        var template = await factory.TemplateAsync();
        using var busy = factory.Claimant(Guid.NewGuid(), "198.51.100.10", device: "load-generator");
        for (var i = 0; i < 8; i++)
        {
            await (await RiskFactory.ClaimAsync(busy, template)).EnsureStatusAsync(HttpStatusCode.Created);
        }

        using var blocked = factory.Claimant(RiskFactory.BlockedUser, "198.51.100.10");
        await RiskFactory.ShouldBeRiskBlockedAsync(await RiskFactory.ClaimAsync(blocked, template), "blocked_user");
        using var blockedAddress = factory.Claimant(Guid.NewGuid(), "203.0.113.8");
        await RiskFactory.ShouldBeRiskBlockedAsync(await RiskFactory.ClaimAsync(blockedAddress, template), "blocked_ip");
        Assert.Equal((8, 8), await factory.StoredAsync(template));
    }
}

/// <summary>The shipped defaults, with request-rate limits on, as an outside test suite runs the server.</summary>
public sealed class RiskDefaultsFactory : RiskFactory
{
    protected override bool TightRules => false;
}

public sealed class RiskDefaultsTests(RiskDefaultsFactory factory) : IClassFixture<RiskDefaultsFactory>
{
    [Fact]
    public async Task Two_hundred_claims_at_once_from_one_address_get_exactly_the_thirty_coupons_under_the_default_rules()
    {
        var template = await factory.TemplateAsync(total: 30, perUser: 1);
        var buyers = Enumerable.Range(0, 100).Select(_ => Guid.NewGuid()).ToList();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var claims = buyers.Concat(buyers).Select(id => Task.Run(async () =>
        {
            using var buyer = factory.Claimant(id, "127.0.0.1");
            await start.Task;
            using var response = await RiskFactory.ClaimAsync(buyer, template);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        })).ToList();
        start.SetResult();
        var answers = await Task.WhenAll(claims);

        Assert.Equal(30, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.Conflict, a.StatusCode));
        Assert.Equal((30, 30), await factory.StoredAsync(template));
    }
}
