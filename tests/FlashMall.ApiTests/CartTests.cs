using System.Net;
using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Ordering.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>The buyer's cart: its own, priced from the catalog now, held to its limits under parallel requests.</summary>
public sealed class CartTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    private async Task<HttpClient> MerchandiserAsync() => (await factory.NewUserAsync("merchandiser")).Client;

    private Task<int> LinesAsync(Guid buyer) => factory.WithScopeAsync(s => s.GetRequiredService<OrderingDbContext>().CartItems.CountAsync(i => i.UserId == buyer));

    [Fact]
    public async Task A_buyer_adds_changes_and_removes_lines_priced_from_the_catalog()
    {
        using var merchandiser = await MerchandiserAsync();
        var phone = await factory.SkuAsync(merchandiser, stock: 5, price: 199_900);
        var case_ = await factory.SkuAsync(merchandiser, stock: 100, price: 4_990);
        var buyerId = Guid.NewGuid();
        using var buyer = factory.Buyer(buyerId);

        var empty = await (await buyer.GetAsync("/api/cart")).JsonAsync();
        Assert.Empty(empty.GetProperty("items").EnumerateArray());
        Assert.Equal(0, empty.GetProperty("subtotal").GetInt64());

        await (await buyer.PostAsJsonAsync("/api/cart/items", new { skuId = phone, quantity = 1 })).EnsureStatusAsync(HttpStatusCode.OK);
        await (await buyer.PostAsJsonAsync("/api/cart/items", new { skuId = phone, quantity = 2 })).EnsureStatusAsync(HttpStatusCode.OK);
        var cart = await (await buyer.PostAsJsonAsync("/api/cart/items", new { skuId = case_ })).JsonAsync();
        var lines = cart.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(3, lines[0].GetProperty("quantity").GetInt32());
        Assert.Equal(599_700, lines[0].GetProperty("lineTotal").GetInt64());
        Assert.Equal(1, lines[1].GetProperty("quantity").GetInt32());
        Assert.Equal(599_700 + 4_990, cart.GetProperty("subtotal").GetInt64());
        Assert.Equal(4, cart.GetProperty("quantity").GetInt32());

        var changed = await (await buyer.PutAsJsonAsync($"/api/cart/items/{phone}", new { quantity = 6 })).JsonAsync();
        var phoneLine = changed.GetProperty("items")[0];
        Assert.Equal(6, phoneLine.GetProperty("quantity").GetInt32());
        Assert.False(phoneLine.GetProperty("available").GetBoolean()); // 6 wanted, 5 free: shown, not counted
        Assert.Equal(4_990, changed.GetProperty("subtotal").GetInt64());

        Assert.Equal(HttpStatusCode.NoContent, (await buyer.DeleteAsync($"/api/cart/items/{phone}")).StatusCode);
        await (await buyer.DeleteAsync($"/api/cart/items/{phone}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await buyer.PutAsJsonAsync($"/api/cart/items/{phone}", new { quantity = 1 })).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Equal(1, await LinesAsync(buyerId));
    }

    [Fact]
    public async Task A_cart_is_its_buyers_alone()
    {
        using var merchandiser = await MerchandiserAsync();
        var sku = await factory.SkuAsync(merchandiser, stock: 10);
        var ownerId = Guid.NewGuid();
        using var owner = factory.Buyer(ownerId);
        using var other = factory.Buyer(Guid.NewGuid());
        await (await owner.PostAsJsonAsync("/api/cart/items", new { skuId = sku, quantity = 2 })).EnsureStatusAsync(HttpStatusCode.OK);

        Assert.Empty((await (await other.GetAsync("/api/cart")).JsonAsync()).GetProperty("items").EnumerateArray());
        await (await other.PutAsJsonAsync($"/api/cart/items/{sku}", new { quantity = 9 })).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await other.DeleteAsync($"/api/cart/items/{sku}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Equal(2, (await (await owner.GetAsync("/api/cart")).JsonAsync()).GetProperty("items")[0].GetProperty("quantity").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.CreateClient().GetAsync("/api/cart")).StatusCode);
    }

    [Fact]
    public async Task Bad_input_is_refused_and_changes_nothing()
    {
        using var merchandiser = await MerchandiserAsync();
        var sku = await factory.SkuAsync(merchandiser, stock: 10);
        var buyerId = Guid.NewGuid();
        using var buyer = factory.Buyer(buyerId);

        foreach (var body in new object[]
        {
            new { skuId = sku, quantity = 0 }, new { skuId = sku, quantity = -3 }, new { skuId = sku, quantity = 100 },
            new { skuId = "not-a-sku", quantity = 1 }, new { skuId = Guid.NewGuid().ToString(), quantity = 1 }, new { quantity = 1 },
        })
        {
            await (await buyer.PostAsJsonAsync("/api/cart/items", body)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        }
        using var text = await buyer.PostAsync("/api/cart/items", new StringContent($"{{\"skuId\":\"{sku}\",\"quantity\":\"2\"}}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);
        Assert.Equal(0, await LinesAsync(buyerId));

        await (await buyer.PostAsJsonAsync("/api/cart/items", new { skuId = sku, quantity = 98 })).EnsureStatusAsync(HttpStatusCode.OK);
        await (await buyer.PostAsJsonAsync("/api/cart/items", new { skuId = sku, quantity = 2 })).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await (await buyer.PutAsJsonAsync($"/api/cart/items/{sku}", new { quantity = 0 })).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(98, (await (await buyer.GetAsync("/api/cart")).JsonAsync()).GetProperty("items")[0].GetProperty("quantity").GetInt32());
    }

    [Fact]
    public async Task Parallel_adds_never_pass_the_limits()
    {
        using var merchandiser = await MerchandiserAsync();
        var skus = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            skus.Add(await factory.SkuAsync(merchandiser, stock: 1_000));
        }
        var buyerId = Guid.NewGuid();
        using var buyer = factory.Buyer(buyerId);

        // 60 different SKUs at once into a cart of 50 lines: exactly 50 get in.
        var adds = await Task.WhenAll(skus.Select(async sku =>
        {
            using var response = await buyer.PostAsJsonAsync("/api/cart/items", new { skuId = sku, quantity = 1 });
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }));
        Assert.Equal(50, adds.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.All(adds.Where(a => a.StatusCode != HttpStatusCode.OK), a =>
        {
            Assert.Equal(HttpStatusCode.Conflict, a.StatusCode);
            Assert.Contains("\"cart_full\"", a.Item2, StringComparison.Ordinal);
        });
        Assert.Equal(50, await LinesAsync(buyerId));

        // 30 taps of +5 on one line at once: 19 fit under 99 (with the 1 already there: 96), the rest are refused.
        var one = (await (await buyer.GetAsync("/api/cart")).JsonAsync()).GetProperty("items")[0].GetProperty("skuId").GetString();
        var taps = await Task.WhenAll(Enumerable.Range(0, 30).Select(async _ =>
        {
            using var response = await buyer.PostAsJsonAsync("/api/cart/items", new { skuId = one, quantity = 5 });
            return response.StatusCode;
        }));
        Assert.Equal(19, taps.Count(t => t == HttpStatusCode.OK));
        var quantity = await factory.WithScopeAsync(s => s.GetRequiredService<OrderingDbContext>().CartItems
            .Where(i => i.UserId == buyerId && i.SkuId == Guid.Parse(one!)).Select(i => i.Quantity).SingleAsync());
        Assert.Equal(96, quantity);
    }
}
