using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlashMall.ApiTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace FlashMall.ApiTests;

/// <summary>Operators' runtime switches: reading and changing them, what a change does, and who may make it.</summary>
internal static class Switches
{
    public static Task<HttpResponseMessage> SetAsync(this HttpClient op, string name, bool enabled, string reason = "test: load drill") =>
        op.PutAsJsonAsync($"/api/admin/switches/{name}", new { enabled, reason });

    /// <summary>Asks <paramref name="path"/> until it answers <paramref name="status"/> or <paramref name="within"/> passes; the last answer.</summary>
    public static async Task<HttpResponseMessage> AnswersWithinAsync(
        this HttpClient client, HttpMethod method, string path, HttpStatusCode status, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var response = await client.SendAsync(new HttpRequestMessage(method, path)
            {
                Content = method == HttpMethod.Get ? null : JsonContent.Create(new { }),
            });
            if (response.StatusCode == status || deadline.Elapsed >= within)
            {
                return response;
            }
            response.Dispose();
            await Task.Delay(20);
        }
    }

    public static async Task<JsonElement> SwitchAsync(this HttpClient op, string name)
    {
        var all = await (await op.GetAsync("/api/admin/switches")).JsonAsync();
        return all.EnumerateArray().Single(s => s.GetProperty("name").GetString() == name);
    }
}

public sealed class SwitchTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    private static readonly object Address = new { name = "张三 Zhang San", phone = "+86 138 0013 8000", line1 = "人民路 1 号", city = "上海", region = "上海市", postcode = "200000" };
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Known_switches_are_listed_off_with_their_descriptions()
    {
        var op = await factory.NewUserAsync("operator");
        var all = await (await op.Client.GetAsync("/api/admin/switches")).JsonAsync();
        var names = all.EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        Assert.Contains("noncore.shed", names);
        Assert.Contains("circle.readonly", names);
        Assert.Contains("search.cache_only", names);
        var shed = await op.Client.SwitchAsync("noncore.shed");
        Assert.Contains("503 degraded", shed.GetProperty("description").GetString());
        Assert.True(shed.TryGetProperty("updatedAt", out _));
        Assert.True(shed.TryGetProperty("updatedBy", out _));
    }

    [Fact]
    public async Task Shedding_refuses_every_non_core_endpoint_within_a_second_while_buying_and_checkout_succeed()
    {
        var op = await factory.NewUserAsync("operator");
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var member = await factory.NewUserAsync();
        var sale = await factory.LiveSaleAsync(merchandiser.Client, quantity: 5, perUserLimit: 1);
        var sku = await factory.SkuAsync(merchandiser.Client, stock: 5);
        var product = (await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(await factory.CategoryAsync()))).GetProperty("id").GetString();
        using var anonymous = factory.CreateClient();
        var postId = Guid.NewGuid();

        // Served while the switch is off: (client, method, path).
        var served = new (HttpClient Client, string Path)[]
        {
            (anonymous, "/api/categories"),
            (anonymous, "/api/products"),
            (anonymous, "/api/search?q=phone"),
            (anonymous, "/api/search/suggest?q=ph"),
            (merchandiser.Client, "/api/admin/search"),
            (anonymous, "/api/circle/feed"),
            (member.Client, "/api/circle/feed/following"),
            (op.Client, "/api/admin/circle/hidden"),
        };
        foreach (var (client, path) in served)
        {
            await (await client.GetAsync(path)).EnsureStatusAsync(HttpStatusCode.OK);
        }
        var refused = served.Select(s => (s.Client, HttpMethod.Get, s.Path)).Concat(
        [
            (anonymous, HttpMethod.Get, $"/api/circle/posts/{postId}"),
            (anonymous, HttpMethod.Get, $"/api/circle/posts/{postId}/comments"),
            (member.Client, HttpMethod.Post, $"/api/circle/posts/{postId}/likes"),
            (member.Client, HttpMethod.Put, $"/api/circle/following/{op.UserId}"),
            (op.Client, HttpMethod.Post, "/api/admin/search/rebuild"),
        ]).ToList();

        var on = await (await op.Client.SetAsync("noncore.shed", true)).JsonAsync();
        Assert.True(on.GetProperty("enabled").GetBoolean());
        Assert.Equal(op.UserId, on.GetProperty("updatedBy").GetString());
        try
        {
            foreach (var (client, method, path) in refused)
            {
                var answer = await client.AnswersWithinAsync(method, path, HttpStatusCode.ServiceUnavailable, OneSecond);
                await answer.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "degraded");
                Assert.True(answer.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"{path} has no Retry-After");
            }

            // The core keeps working: a flash-sale purchase, a checkout, product detail, health, and the switches themselves.
            using var buyer = factory.Buyer(Guid.NewGuid());
            var purchase = await buyer.PurchaseAsync(sale, key: Guid.NewGuid().ToString());
            Assert.Equal("reserved", (await purchase.JsonAsync(HttpStatusCode.Accepted)).GetProperty("status").GetString());
            var checkout = new HttpRequestMessage(HttpMethod.Post, "/api/orders")
            {
                Content = JsonContent.Create(new { items = new[] { new { skuId = sku, quantity = 1 } }, address = Address }),
            };
            checkout.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            Assert.Equal("pending_payment", (await (await buyer.SendAsync(checkout)).JsonAsync(HttpStatusCode.Created)).GetProperty("status").GetString());
            await (await anonymous.GetAsync($"/api/products/{product}")).EnsureStatusAsync(HttpStatusCode.OK);
            await (await anonymous.GetAsync($"/api/flash-sales/{sale}")).EnsureStatusAsync(HttpStatusCode.OK);
            await (await anonymous.GetAsync("/health/live")).EnsureStatusAsync(HttpStatusCode.OK);
            await (await op.Client.GetAsync("/api/admin/switches")).EnsureStatusAsync(HttpStatusCode.OK);
        }
        finally
        {
            await (await op.Client.SetAsync("noncore.shed", false, "test: drill over")).EnsureStatusAsync(HttpStatusCode.OK);
        }
        foreach (var (client, path) in served)
        {
            await (await client.AnswersWithinAsync(HttpMethod.Get, path, HttpStatusCode.OK, OneSecond)).EnsureStatusAsync(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task Circle_readonly_refuses_a_post_and_serves_the_feed()
    {
        var op = await factory.NewUserAsync("operator");
        var author = await factory.NewUserAsync();
        await (await op.Client.SetAsync("circle.readonly", true)).EnsureStatusAsync(HttpStatusCode.OK);
        try
        {
            var post = await author.Client.PostAsync("/api/circle/posts", TestImages.Post("while read-only"));
            await post.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "read_only");
            await (await factory.CreateClient().GetAsync("/api/circle/feed")).EnsureStatusAsync(HttpStatusCode.OK);
        }
        finally
        {
            await (await op.Client.SetAsync("circle.readonly", false)).EnsureStatusAsync(HttpStatusCode.OK);
        }
        var after = await author.Client.PostAsync("/api/circle/posts", TestImages.Post("after read-only"));
        await after.EnsureStatusAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Search_cache_only_serves_recent_answers_and_says_so_and_refuses_the_rest()
    {
        var op = await factory.NewUserAsync("operator");
        using var shopper = factory.CreateClient();
        var query = $"/api/search?q=cache{Guid.NewGuid():N}&sort=price_asc";
        var suggest = $"/api/search/suggest?q=ca{Guid.NewGuid():N}";
        var live = await shopper.GetAsync(query);
        var liveBody = await live.Content.ReadAsStringAsync();
        await live.EnsureStatusAsync(HttpStatusCode.OK);
        Assert.False(live.Headers.Contains("X-Served-From"));
        var liveSuggest = await (await shopper.GetAsync(suggest)).Content.ReadAsStringAsync();

        await (await op.Client.SetAsync("search.cache_only", true)).EnsureStatusAsync(HttpStatusCode.OK);
        try
        {
            var cached = await shopper.GetAsync(query);
            await cached.EnsureStatusAsync(HttpStatusCode.OK);
            Assert.Equal("cache", Assert.Single(cached.Headers.GetValues("X-Served-From")));
            Assert.Equal(liveBody, await cached.Content.ReadAsStringAsync());
            var cachedSuggest = await shopper.GetAsync(suggest);
            Assert.Equal("cache", Assert.Single(cachedSuggest.Headers.GetValues("X-Served-From")));
            Assert.Equal(liveSuggest, await cachedSuggest.Content.ReadAsStringAsync());

            var miss = await shopper.GetAsync($"/api/search?q=never{Guid.NewGuid():N}");
            await miss.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "degraded");
            Assert.NotNull(miss.Headers.RetryAfter);
            await (await shopper.GetAsync($"/api/search/suggest?q=never{Guid.NewGuid():N}")).ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "degraded");
        }
        finally
        {
            await (await op.Client.SetAsync("search.cache_only", false)).EnsureStatusAsync(HttpStatusCode.OK);
        }
        var again = await shopper.GetAsync($"/api/search?q=never{Guid.NewGuid():N}");
        await again.EnsureStatusAsync(HttpStatusCode.OK);
        Assert.False(again.Headers.Contains("X-Served-From"));
    }

    [Fact]
    public async Task Only_operators_change_switches_and_requests_are_checked()
    {
        var op = await factory.NewUserAsync("operator");
        var buyer = await factory.NewUserAsync();
        using var anonymous = factory.CreateClient();

        await (await anonymous.GetAsync("/api/admin/switches")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        await (await anonymous.SetAsync("noncore.shed", true)).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        await (await buyer.Client.GetAsync("/api/admin/switches")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await buyer.Client.SetAsync("noncore.shed", true)).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await buyer.Client.GetAsync("/api/admin/audit")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        await (await op.Client.SetAsync("no.such.switch", true)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        var noReason = await op.Client.PutAsJsonAsync("/api/admin/switches/noncore.shed", new { enabled = true });
        Assert.True((await noReason.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed")).GetProperty("errors").TryGetProperty("reason", out _));
        var noEnabled = await op.Client.PutAsJsonAsync("/api/admin/switches/noncore.shed", new { reason = "why" });
        Assert.True((await noEnabled.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed")).GetProperty("errors").TryGetProperty("enabled", out _));
        await (await op.Client.SetAsync("noncore.shed", true, new string('x', 501))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var malformed = await op.Client.PutAsync("/api/admin/switches/noncore.shed", new StringContent("{\"enabled\": ", System.Text.Encoding.UTF8, "application/json"));
        await malformed.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_json");
        await (await op.Client.PostAsync($"/api/admin/changes/{Guid.NewGuid()}/approve", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");

        // None of the refusals changed anything.
        Assert.False((await op.Client.SwitchAsync("noncore.shed")).GetProperty("enabled").GetBoolean());
        await (await anonymous.GetAsync("/api/categories")).EnsureStatusAsync(HttpStatusCode.OK);
    }
}

/// <summary>A deployment where switch changes need a second operator (as in Production).</summary>
public sealed class ApprovalFactory : FlashMallFactory
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Ops:RequireApproval"] = "true";
    }
}

public sealed class SwitchApprovalTests(ApprovalFactory factory) : IClassFixture<ApprovalFactory>
{
    [Fact]
    public async Task A_change_does_nothing_until_a_different_operator_approves_and_the_audit_lists_both()
    {
        var requester = await factory.NewUserAsync("operator");
        var approver = await factory.NewUserAsync("operator");
        using var anonymous = factory.CreateClient();

        var requested = await requester.Client.SetAsync("noncore.shed", true, "flash sale at 20:00: keep the core fast");
        var changeId = (await requested.JsonAsync(HttpStatusCode.Accepted)).GetProperty("changeId").GetString()!;

        // Nothing applied: the switch is off and non-core is served (past a poll interval).
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False((await requester.Client.SwitchAsync("noncore.shed")).GetProperty("enabled").GetBoolean());
        await (await anonymous.GetAsync("/api/categories")).EnsureStatusAsync(HttpStatusCode.OK);

        // The requester cannot approve their own change.
        await (await requester.Client.PostAsync($"/api/admin/changes/{changeId}/approve", null))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "approval_by_requester");
        Assert.False((await requester.Client.SwitchAsync("noncore.shed")).GetProperty("enabled").GetBoolean());

        var approved = await (await approver.Client.PostAsync($"/api/admin/changes/{changeId}/approve", null)).JsonAsync();
        Assert.True(approved.GetProperty("enabled").GetBoolean());
        Assert.Equal(approver.UserId, approved.GetProperty("updatedBy").GetString());
        await (await anonymous.AnswersWithinAsync(HttpMethod.Get, "/api/categories", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(1)))
            .ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "degraded");

        // Applied once: approving again is a conflict.
        await (await approver.Client.PostAsync($"/api/admin/changes/{changeId}/approve", null))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "change_not_pending");

        var audit = await (await approver.Client.GetAsync("/api/admin/audit?page=1")).JsonAsync();
        Assert.Equal(2, audit.GetProperty("total").GetInt32());
        Assert.Equal(1, audit.GetProperty("page").GetInt32());
        Assert.True(audit.GetProperty("pageSize").GetInt32() > 0);
        var applied = audit.GetProperty("items")[0];
        var request = audit.GetProperty("items")[1];
        Assert.Equal("applied", applied.GetProperty("action").GetString());
        Assert.Equal("requested", request.GetProperty("action").GetString());
        foreach (var entry in new[] { applied, request })
        {
            Assert.Equal("noncore.shed", entry.GetProperty("switch").GetString());
            Assert.Equal(changeId, entry.GetProperty("changeId").GetString());
            Assert.Equal("flash sale at 20:00: keep the core fast", entry.GetProperty("reason").GetString());
            Assert.False(entry.GetProperty("before").GetBoolean());
            Assert.True(entry.GetProperty("after").GetBoolean());
            Assert.Equal(requester.UserId, entry.GetProperty("requestedBy").GetString());
        }
        Assert.Equal(requester.UserId, request.GetProperty("actor").GetString());
        Assert.Equal(JsonValueKind.Null, request.GetProperty("approvedBy").ValueKind);
        Assert.Equal(approver.UserId, applied.GetProperty("actor").GetString());
        Assert.Equal(approver.UserId, applied.GetProperty("approvedBy").GetString());

        // Turning it off goes through approval too.
        var off = (await (await approver.Client.SetAsync("noncore.shed", false, "sale over")).JsonAsync(HttpStatusCode.Accepted)).GetProperty("changeId").GetString();
        await (await anonymous.GetAsync("/api/categories")).ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "degraded");
        await (await requester.Client.PostAsync($"/api/admin/changes/{off}/approve", null)).EnsureStatusAsync(HttpStatusCode.OK);
        await (await anonymous.GetAsync("/api/categories")).EnsureStatusAsync(HttpStatusCode.OK);
    }
}

/// <summary>
/// Node A polls only once a minute, so on PostgreSQL + Redis what brings it the change within a
/// second is the pub/sub message; without Redis (SQLite run) nodes poll every second.
/// </summary>
public sealed class SwitchPropagationTests
{
    [Fact]
    public async Task A_change_made_on_one_node_reaches_the_other_within_a_second()
    {
        await using var nodeA = new FlashMallFactory();
        await ((IAsyncLifetime)nodeA).InitializeAsync();
        if (TestEnvironment.Redis is not null && TestEnvironment.UsesPostgres)
        {
            nodeA.Settings["Ops:PollInterval"] = "00:01:00";
        }
        await using var nodeB = new SecondNodeFactory(nodeA);
        await ((IAsyncLifetime)nodeB).InitializeAsync();

        var op = await nodeA.NewUserAsync("operator");
        using var readerA = nodeA.CreateClient();
        using var opOnB = nodeB.ClientWithToken(op.Tokens.AccessToken);
        await (await readerA.GetAsync("/api/categories")).EnsureStatusAsync(HttpStatusCode.OK);

        await (await opOnB.SetAsync("noncore.shed", true)).EnsureStatusAsync(HttpStatusCode.OK);
        var refused = await readerA.AnswersWithinAsync(HttpMethod.Get, "/api/categories", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(1));
        await refused.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "degraded");

        await (await opOnB.SetAsync("noncore.shed", false)).EnsureStatusAsync(HttpStatusCode.OK);
        var served = await readerA.AnswersWithinAsync(HttpMethod.Get, "/api/categories", HttpStatusCode.OK, TimeSpan.FromSeconds(1));
        await served.EnsureStatusAsync(HttpStatusCode.OK);
    }
}

/// <summary>The Production environment with no <c>Ops:RequireApproval</c> set: approval is on by default.</summary>
public sealed class ProductionFactory : FlashMallFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseEnvironment("Production");
    }
}

public sealed class SwitchProductionTests(ProductionFactory factory) : IClassFixture<ProductionFactory>
{
    [Fact]
    public async Task In_production_a_change_waits_for_approval_by_default()
    {
        var op = await factory.NewUserAsync("operator");
        var requested = await op.Client.SetAsync("circle.readonly", true);
        Assert.False(string.IsNullOrEmpty((await requested.JsonAsync(HttpStatusCode.Accepted)).GetProperty("changeId").GetString()));
        Assert.False((await op.Client.SwitchAsync("circle.readonly")).GetProperty("enabled").GetBoolean());
    }
}
