using System.Net;
using System.Net.Http.Json;
using System.Text;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Catalog.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>Defects found by review, each pinned by the behaviour a user or attacker would see.</summary>
public sealed class ReviewRegressionTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    [Fact]
    public async Task Parallel_guesses_cannot_outrun_the_lockout()
    {
        var user = await factory.NewUserAsync();
        using var client = factory.CreateClient();

        var guesses = await Task.WhenAll(Enumerable.Range(0, 11).Select(i =>
            client.PostAsJsonAsync("/api/accounts/login", new { login = user.Email, password = $"wrong-guess-{i}" })));
        var right = await client.PostAsJsonAsync("/api/accounts/login", new { login = user.Email, password = user.Password });

        Assert.True(guesses.Count(g => g.StatusCode == HttpStatusCode.Unauthorized) <= 5, "more than 5 guesses were checked");
        Assert.All(guesses, g => Assert.True(g.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable, $"{g.StatusCode}"));
        await right.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "account_locked");
    }

    [Fact]
    public async Task Nul_and_bidi_override_characters_are_refused_on_every_provider()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var before = await factory.CountProductsAsync();
        await (await merchandiser.Client.PostAsJsonAsync("/api/admin/products", CatalogHelpers.ProductBody(category, "a\u0000b")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await (await merchandiser.Client.PostAsJsonAsync("/api/admin/products", CatalogHelpers.ProductBody(category, "\u202Eevil")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        using var anonymous = factory.CreateClient();
        await (await anonymous.PostAsJsonAsync("/api/accounts/register", new { email = $"n-{Guid.NewGuid():N}@x.test", password = "Long-Enough-1", nickname = "x\u0000" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(before, await factory.CountProductsAsync());
    }

    [Fact]
    public async Task Long_chinese_sku_attributes_are_stored_on_every_provider()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var attributes = Enumerable.Range(0, 10).ToDictionary(i => $"属性{i}", _ => string.Concat(Enumerable.Repeat("星空黑", 21)));
        var body = new { name = "长属性 Long attributes", categoryId = category, brand = "b", skus = new[] { new { code = $"L-{Guid.NewGuid():N}", price = 100L, stock = 1, attributes } } };
        var id = (await merchandiser.Client.CreateProductAsync(body)).GetProperty("id").GetString();
        using var anonymous = factory.CreateClient();
        var product = await (await anonymous.GetAsync($"/api/products/{id}")).JsonAsync();
        Assert.Equal(attributes["属性9"], product.GetProperty("skus")[0].GetProperty("attributes").GetProperty("属性9").GetString());
    }

    [Fact]
    public async Task Numbers_sent_as_strings_are_refused()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        using var content = new StringContent($$"""{"name":"x","categoryId":"{{category}}","brand":"b","skus":[{"code":"c","price":"100","stock":1}]}""", Encoding.UTF8, "application/json");
        await (await merchandiser.Client.PostAsync("/api/admin/products", content)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_json");
    }

    [Fact]
    public async Task A_removed_admin_role_stops_working_at_once_and_the_last_admin_cannot_be_removed()
    {
        var deputy = await factory.NewUserAsync("admin");
        using var admin = await factory.AdminClientAsync();
        await (await admin.PostAsJsonAsync($"/api/admin/users/{deputy.UserId}/roles", new { roles = Array.Empty<string>() })).EnsureStatusAsync(HttpStatusCode.OK);

        // The deputy's token still says admin; the store no longer does.
        await (await deputy.Client.PostAsJsonAsync($"/api/admin/users/{deputy.UserId}/roles", new { roles = new[] { "admin" } }))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_token");
        await (await deputy.Client.PostAsJsonAsync("/api/accounts/refresh", new { refreshToken = deputy.Tokens.RefreshToken }))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_refresh_token");

        var me = await (await admin.GetAsync("/api/accounts/me")).JsonAsync();
        await (await admin.PostAsJsonAsync($"/api/admin/users/{me.GetProperty("userId").GetString()}/roles", new { roles = Array.Empty<string>() }))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "last_admin");
    }

    [Fact]
    public async Task Omitting_a_sku_on_put_hides_it_but_keeps_it_for_sales_and_orders()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var (keep, drop) = ($"K-{Guid.NewGuid():N}", $"D-{Guid.NewGuid():N}");
        var created = await merchandiser.Client.CreateProductAsync(new
        {
            name = "两款 Two SKUs", categoryId = category, brand = "b",
            skus = new[] { new { code = keep, price = 100L, stock = 1 }, new { code = drop, price = 200L, stock = 1 } },
        });
        var id = created.GetProperty("id").GetString();
        await (await merchandiser.Client.PutAsJsonAsync($"/api/admin/products/{id}", new
        {
            name = "一款 One SKU", categoryId = category, brand = "b", skus = new[] { new { code = keep, price = 100L, stock = 1 } },
        })).EnsureStatusAsync(HttpStatusCode.OK);

        using var anonymous = factory.CreateClient();
        var product = await (await anonymous.GetAsync($"/api/products/{id}")).JsonAsync();
        Assert.Equal(keep, Assert.Single(product.GetProperty("skus").EnumerateArray()).GetProperty("code").GetString());
        var stored = await factory.WithScopeAsync(services => services.GetRequiredService<CatalogDbContext>().Skus.CountAsync(s => s.Code == drop));
        Assert.Equal(1, stored);
    }

    [Fact]
    public async Task A_stale_if_match_is_412_and_writes_nothing()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var code = $"V-{Guid.NewGuid():N}";
        var id = (await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(category, "版本 Version", code: code))).GetProperty("id").GetString();
        var read = await merchandiser.Client.GetAsync($"/api/admin/products/{id}");
        var etag = read.Headers.ETag!.Tag;

        object Body(string name) => new { name, categoryId = category, brand = "b", skus = new[] { new { code, price = 100L, stock = 5 } } };
        using (var first = new HttpRequestMessage(HttpMethod.Put, $"/api/admin/products/{id}") { Content = JsonContent.Create(Body("第一次 First")) })
        {
            first.Headers.TryAddWithoutValidation("If-Match", etag);
            await (await merchandiser.Client.SendAsync(first)).EnsureStatusAsync(HttpStatusCode.OK);
        }
        using (var stale = new HttpRequestMessage(HttpMethod.Put, $"/api/admin/products/{id}") { Content = JsonContent.Create(Body("过期 Stale")) })
        {
            stale.Headers.TryAddWithoutValidation("If-Match", etag);
            await (await merchandiser.Client.SendAsync(stale)).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed");
        }
        var current = await (await merchandiser.Client.GetAsync($"/api/admin/products/{id}")).JsonAsync();
        Assert.Equal("第一次 First", current.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Concurrent_address_creates_respect_the_cap_of_20()
    {
        var buyer = await factory.NewUserAsync();
        var address = new { name = "李四", phone = "13900139000", line1 = "南京路 1 号", city = "上海", region = "上海市" };
        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => buyer.Client.PostAsJsonAsync("/api/accounts/addresses", address)));

        Assert.Equal(20, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            await refused.ShouldBeProblemAsync(HttpStatusCode.Conflict, "address_book_full");
        }
        Assert.Equal(20, (await (await buyer.Client.GetAsync("/api/accounts/addresses")).JsonAsync()).GetArrayLength());
    }

    [Fact]
    public async Task Address_create_honours_idempotency_keys()
    {
        var buyer = await factory.NewUserAsync();
        var address = new { name = "王五", phone = "+86 139-0013-9000", line1 = "人民路 2 号", city = "杭州", region = "浙江省" };
        var key = Guid.NewGuid().ToString();
        async Task<HttpResponseMessage> Send()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/accounts/addresses") { Content = JsonContent.Create(address) };
            request.Headers.Add("Idempotency-Key", key);
            return await buyer.Client.SendAsync(request);
        }
        var first = await (await Send()).JsonAsync(HttpStatusCode.Created);
        var second = await Send();
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.GetProperty("id").GetString(), (await second.JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString());
        Assert.Equal(1, (await (await buyer.Client.GetAsync("/api/accounts/addresses")).JsonAsync()).GetArrayLength());
        Assert.Equal("+8613900139000", first.GetProperty("phone").GetString());
    }

    [Fact]
    public async Task One_phone_number_is_one_account_however_it_is_written()
    {
        using var client = factory.CreateClient();
        var local = $"137{Random.Shared.Next(10_000_000, 99_999_999)}";
        await (await client.PostAsJsonAsync("/api/accounts/register", new { phone = local, password = "Phone-Owner-1" })).EnsureStatusAsync(HttpStatusCode.Created);
        await (await client.PostAsJsonAsync("/api/accounts/register", new { phone = $"+86{local}", password = "Phone-Owner-2" }))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "account_exists");
        await (await client.PostAsJsonAsync("/api/accounts/register", new { phone = $"0086 {local}", password = "Phone-Owner-3" }))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "account_exists");
        await factory.LoginAsync($"+86 {local}", "Phone-Owner-1");
    }
}
