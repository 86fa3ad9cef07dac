using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Ordering.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>Checkout: prices from the catalog, stock taken with the order or not at all, never a unit sold twice.</summary>
public sealed class CheckoutTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    private static readonly object Address = new { name = "张三 Zhang San", phone = "+86 138 0013 8000", line1 = "人民路 1 号", city = "上海", region = "上海市", postcode = "200000" };

    private async Task<string> SkuAsync(int stock, long price = 10_000) =>
        await factory.SkuAsync((await factory.NewUserAsync("merchandiser")).Client, stock, price);

    private Task<int> StockAsync(string sku) => factory.StockAsync(sku);

    private Task<int> OrdersAsync(Guid buyer) => factory.WithScopeAsync(s => s.GetRequiredService<OrderingDbContext>().Orders.CountAsync(o => o.UserId == buyer));

    private static Task<HttpResponseMessage> CheckoutAsync(HttpClient buyer, object? items, object? address = null, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/orders") { Content = JsonContent.Create(new { items, address = address ?? Address }) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }
        return buyer.SendAsync(request);
    }

    [Fact]
    public async Task An_order_freezes_the_catalogs_prices_and_takes_its_stock()
    {
        var phone = await SkuAsync(stock: 10, price: 199_900);
        var charger = await SkuAsync(stock: 10, price: 9_950);
        var buyerId = Guid.NewGuid();
        using var buyer = factory.Buyer(buyerId);

        var placed = await (await CheckoutAsync(buyer, new[] { new { skuId = phone, quantity = 2 }, new { skuId = charger, quantity = 3 } }))
            .JsonAsync(HttpStatusCode.Created);
        Assert.Equal("pending_payment", placed.GetProperty("status").GetString());
        Assert.Equal(2 * 199_900 + 3 * 9_950, placed.GetProperty("total").GetInt64());
        Assert.InRange(placed.GetProperty("payBefore").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(14), DateTimeOffset.UtcNow.AddMinutes(16));
        Assert.Equal(8, await StockAsync(phone));
        Assert.Equal(7, await StockAsync(charger));

        var order = await (await buyer.GetAsync($"/api/orders/{placed.GetProperty("orderId").GetString()}")).JsonAsync();
        Assert.Equal(2 * 199_900 + 3 * 9_950, order.GetProperty("subtotal").GetInt64());
        Assert.Equal(0, order.GetProperty("discount").GetInt64());
        Assert.Equal(199_900, order.GetProperty("items")[0].GetProperty("unitPrice").GetInt64());
        Assert.Equal("上海", order.GetProperty("address").GetProperty("city").GetString());
    }

    [Fact]
    public async Task Checking_out_the_cart_orders_its_lines_and_empties_it()
    {
        var sku = await SkuAsync(stock: 5, price: 3_000);
        using var buyer = factory.Buyer(Guid.NewGuid());
        await (await buyer.PostAsJsonAsync("/api/cart/items", new { skuId = sku, quantity = 4 })).EnsureStatusAsync(HttpStatusCode.OK);

        var placed = await (await CheckoutAsync(buyer, items: null)).JsonAsync(HttpStatusCode.Created);

        Assert.Equal(12_000, placed.GetProperty("total").GetInt64());
        Assert.Equal(1, await StockAsync(sku));
        Assert.Empty((await (await buyer.GetAsync("/api/cart")).JsonAsync()).GetProperty("items").EnumerateArray());
        await (await CheckoutAsync(buyer, items: null)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Fifty_checkouts_at_once_for_the_last_ten_units_make_exactly_ten_orders()
    {
        var sku = await SkuAsync(stock: 10);
        var buyers = Enumerable.Range(0, 50).Select(_ => Guid.NewGuid()).ToList();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var checkouts = buyers.Select(id => Task.Run(async () =>
        {
            using var buyer = factory.Buyer(id);
            await start.Task;
            using var response = await CheckoutAsync(buyer, new[] { new { skuId = sku, quantity = 1 } });
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        })).ToList();
        start.SetResult();
        var answers = await Task.WhenAll(checkouts);

        Assert.Equal(10, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.Equal(40, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict && a.Body.Contains("\"out_of_stock\"", StringComparison.Ordinal)));
        Assert.Equal(0, await StockAsync(sku));
        var orders = await factory.WithScopeAsync(s => s.GetRequiredService<OrderingDbContext>().Orders.CountAsync(o => buyers.Contains(o.UserId)));
        Assert.Equal(10, orders);
    }

    [Fact]
    public async Task A_line_without_stock_refuses_the_whole_order_and_takes_nothing_even_with_an_Idempotency_Key()
    {
        var plenty = await SkuAsync(stock: 10);
        var scarce = await SkuAsync(stock: 1);
        var buyerId = Guid.NewGuid();
        using var buyer = factory.Buyer(buyerId);
        var items = new[] { new { skuId = plenty, quantity = 3 }, new { skuId = scarce, quantity = 2 } };

        await (await CheckoutAsync(buyer, items)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "out_of_stock");
        await (await CheckoutAsync(buyer, items, key: "checkout-1")).ShouldBeProblemAsync(HttpStatusCode.Conflict, "out_of_stock");

        Assert.Equal(10, await StockAsync(plenty));
        Assert.Equal(1, await StockAsync(scarce));
        Assert.Equal(0, await OrdersAsync(buyerId));
    }

    [Fact]
    public async Task A_retry_with_the_same_Idempotency_Key_answers_the_same_order_and_takes_stock_once()
    {
        var sku = await SkuAsync(stock: 10);
        var buyerId = Guid.NewGuid();
        using var buyer = factory.Buyer(buyerId);
        var items = new[] { new { skuId = sku, quantity = 2 } };

        var first = await (await CheckoutAsync(buyer, items, key: "order-once")).JsonAsync(HttpStatusCode.Created);
        using var again = await CheckoutAsync(buyer, items, key: "order-once");
        var second = await again.JsonAsync(HttpStatusCode.Created);

        Assert.Equal(first.GetProperty("orderId").GetString(), second.GetProperty("orderId").GetString());
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(8, await StockAsync(sku));
        Assert.Equal(1, await OrdersAsync(buyerId));
    }

    [Fact]
    public async Task Bad_input_is_refused_and_changes_nothing()
    {
        var sku = await SkuAsync(stock: 10);
        var buyerId = Guid.NewGuid();
        using var buyer = factory.Buyer(buyerId);

        foreach (var (items, address) in new (object?, object?)[]
        {
            (new[] { new { skuId = sku, quantity = 0 } }, null),
            (new[] { new { skuId = sku, quantity = 100 } }, null),
            (new[] { new { skuId = sku, quantity = -1 } }, null),
            (new[] { new { skuId = "nope", quantity = 1 } }, null),
            (new[] { new { skuId = sku, quantity = 1 }, new { skuId = sku, quantity = 1 } }, null),
            (Array.Empty<object>(), null),
            (Enumerable.Range(0, 51).Select(_ => new { skuId = Guid.NewGuid().ToString(), quantity = 1 }).ToArray(), null),
            (new[] { new { skuId = sku, quantity = 1 } }, new { name = "A", phone = "call me", line1 = "x", city = "y", region = "z" }),
            (new[] { new { skuId = sku, quantity = 1 } }, new { name = "A\u0000B", phone = "+8613800138000", line1 = "x", city = "y", region = "z" }),
            (new[] { new { skuId = sku, quantity = 1 } }, new { phone = "+8613800138000", line1 = "x", city = "y", region = "z" }),
        })
        {
            await (await CheckoutAsync(buyer, items, address)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        }
        using var noAddress = await buyer.PostAsJsonAsync("/api/orders", new { items = new[] { new { skuId = sku, quantity = 1 } } });
        await noAddress.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await (await CheckoutAsync(buyer, new[] { new { skuId = Guid.NewGuid().ToString(), quantity = 1 } })).ShouldBeProblemAsync(HttpStatusCode.Conflict, "out_of_stock");
        using var coupon = await buyer.PostAsJsonAsync("/api/orders", new { items = new[] { new { skuId = sku, quantity = 1 } }, couponId = Guid.NewGuid(), address = Address });
        await coupon.ShouldBeProblemAsync(HttpStatusCode.Conflict, "coupon_not_applicable");
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.CreateClient().PostAsJsonAsync("/api/orders", new { items = new[] { new { skuId = sku, quantity = 1 } }, address = Address })).StatusCode);

        Assert.Equal(10, await StockAsync(sku));
        Assert.Equal(0, await OrdersAsync(buyerId));
    }

    [Fact]
    public async Task A_cancelled_order_gives_its_stock_back_once()
    {
        var sku = await SkuAsync(stock: 3);
        using var buyer = factory.Buyer(Guid.NewGuid());
        var placed = await (await CheckoutAsync(buyer, new[] { new { skuId = sku, quantity = 3 } })).JsonAsync(HttpStatusCode.Created);
        Assert.Equal(0, await StockAsync(sku));
        var orderId = placed.GetProperty("orderId").GetString();

        await (await buyer.PostAsync($"/api/orders/{orderId}/cancel", null)).EnsureStatusAsync(HttpStatusCode.OK);
        await (await buyer.PostAsync($"/api/orders/{orderId}/cancel", null)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid_transition");

        await LedgerScenarios.EventuallyAsync(async () => await StockAsync(sku) == 3, "the stock to come back");
        await Task.Delay(500);
        Assert.Equal(3, await StockAsync(sku));
        using var next = factory.Buyer(Guid.NewGuid());
        await (await CheckoutAsync(next, new[] { new { skuId = sku, quantity = 3 } })).EnsureStatusAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_flash_sale_order_gets_its_address_later_from_its_buyer_alone_and_not_once_closed()
    {
        using var admin = await factory.AdminClientAsync();
        var sale = await factory.LiveSaleAsync(admin, quantity: 5, perUserLimit: 1);
        var buyerId = Guid.NewGuid();
        using var buyer = factory.Buyer(buyerId);
        var reservation = (await (await buyer.PurchaseAsync(sale)).JsonAsync(HttpStatusCode.Accepted)).GetProperty("reservationId").GetString();
        string? orderId = null;
        await LedgerScenarios.EventuallyAsync(async () =>
        {
            var seen = await (await buyer.GetAsync($"/api/reservations/{reservation}")).JsonAsync();
            orderId = seen.TryGetProperty("orderId", out var id) ? id.GetString() : null;
            return orderId is not null;
        }, "the order");
        Assert.Equal(JsonValueKind.Null, (await (await buyer.GetAsync($"/api/orders/{orderId}")).JsonAsync()).GetProperty("address").ValueKind);

        var given = await (await buyer.PutAsJsonAsync($"/api/orders/{orderId}/address", Address)).JsonAsync();
        Assert.Equal("人民路 1 号", given.GetProperty("address").GetProperty("line1").GetString());
        await (await buyer.PutAsJsonAsync($"/api/orders/{orderId}/address", new { name = "B", phone = "nope", line1 = "x", city = "y", region = "z" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        using var other = factory.Buyer(Guid.NewGuid());
        await (await other.PutAsJsonAsync($"/api/orders/{orderId}/address", Address)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");

        await (await buyer.PostAsync($"/api/orders/{orderId}/cancel", null)).EnsureStatusAsync(HttpStatusCode.OK);
        await (await buyer.PutAsJsonAsync($"/api/orders/{orderId}/address", Address)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid_transition");
        Assert.Equal("上海", (await (await buyer.GetAsync($"/api/orders/{orderId}")).JsonAsync()).GetProperty("address").GetProperty("city").GetString());
    }
}
