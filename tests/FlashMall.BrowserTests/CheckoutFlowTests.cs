using System.Net.Http.Headers;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.BrowserTests.Infrastructure;
using Microsoft.Playwright;

namespace FlashMall.BrowserTests;

public sealed class CheckoutFlowTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    [Fact]
    public async Task Buyer_registers_finds_a_product_by_Chinese_search_checks_out_with_a_coupon_and_pays_through_the_simulator()
    {
        var shots = new Screenshots("checkout");
        var merchandiser = (await store.NewUserAsync("merchandiser")).Client;
        var category = await store.CategoryAsync("手机 Phones");
        var name = $"华为手机 Mate {Random.Shared.Next(100, 999)}";
        var product = await merchandiser.CreateProductAsync(CatalogHelpers.ProductBody(category, name, price: 99_900));
        var productId = product.GetProperty("id").GetString()!;
        var template = await StoreFixture.CouponTemplateAsync(merchandiser, amountOff: 1_000, minSpend: 10_000);
        await store.WaitUntilSearchFindsAsync("手机", productId);

        var page = await store.PhoneAsync("zh-CN");
        await page.GotoAsync("/register");
        await page.FillAsync("#login", $"buyer-{Guid.NewGuid():N}@flashmall.test");
        await page.FillAsync("#nickname", "小明");
        await page.FillAsync("#password", "Correct-Horse-9");
        await shots.TakeAsync(page, "register");
        await page.ClickAsync("#submit");
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/");

        await page.GotoAsync($"/coupons?claim={template}");
        await page.ClickAsync("#claim");
        await page.Locator("#coupons li[data-status=unused]").WaitForAsync();
        await shots.TakeAsync(page, "coupon-claimed");

        await page.GotoAsync("/");
        await page.FillAsync("#q", "手机");
        await page.PressAsync("#q", "Enter");
        var result = page.Locator($"#results a[href='/p/{productId}']");
        await result.WaitForAsync();
        Assert.Equal(name, await result.Locator(".name").TextContentAsync());
        Assert.Contains("手机", Uri.UnescapeDataString(new Uri(page.Url).Query), StringComparison.Ordinal);
        await shots.TakeAsync(page, "search");

        await result.ClickAsync();
        await page.Locator("#name").Filter(new() { HasText = name }).WaitForAsync();
        await page.Locator("#add-to-cart:not([disabled])").WaitForAsync();
        await shots.TakeAsync(page, "product");
        await page.ClickAsync("#add-to-cart");
        await page.Locator("#go-cart").WaitForAsync();

        await page.ClickAsync("#go-cart");
        await page.Locator("#lines li").WaitForAsync();
        Assert.Equal(1, await page.Locator("#lines li").CountAsync());
        Assert.Equal("¥999.00", await page.TextContentAsync("#total"));
        await shots.TakeAsync(page, "cart");

        await page.ClickAsync("#to-checkout");
        await page.WaitForURLAsync("**/checkout");
        await page.FillAsync("#a-name", "李四");
        await page.FillAsync("#a-phone", "+8613900139000");
        await page.FillAsync("#a-line1", "中山路 8 号");
        await page.FillAsync("#a-city", "广州");
        await page.FillAsync("#a-region", "广东省");
        await page.Locator("#coupon option:nth-child(2)").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        await page.SelectOptionAsync("#coupon", new SelectOptionValue { Index = 1 });
        await shots.TakeAsync(page, "checkout");
        await page.ClickAsync("#place-order");
        await page.WaitForURLAsync("**/orders/*");
        var orderId = new Uri(page.Url).AbsolutePath.Split('/')[^1];

        await page.Locator("#status[data-status=pending_payment]").WaitForAsync();
        Assert.Equal("−¥10.00", await page.TextContentAsync("#discount"));
        Assert.Equal("¥989.00", await page.TextContentAsync("#total"));
        await shots.TakeAsync(page, "order-unpaid");
        await page.ClickAsync("#pay");
        await page.Locator("#sim-pay").WaitForAsync();
        await shots.TakeAsync(page, "simulator");
        await page.ClickAsync("#sim-pay");
        await page.Locator("#status[data-status=paid]").WaitForAsync();
        Assert.Equal("已支付", await page.TextContentAsync("#status"));
        Assert.True(await page.IsHiddenAsync("#pay"));
        Assert.True(await page.IsHiddenAsync("#address-form")); // checked out with an address
        await shots.TakeAsync(page, "paid");

        // What the page shows is what the API holds, read with the token the page keeps (never in a cookie).
        var token = await page.EvaluateAsync<string>("() => localStorage.getItem('fm.access')");
        Assert.Empty(await page.Context.CookiesAsync());
        using var buyer = store.CreateClient();
        buyer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var order = await (await buyer.GetAsync($"/api/orders/{orderId}")).JsonAsync();
        Assert.Equal("paid", order.GetProperty("status").GetString());
        Assert.Equal(1_000, order.GetProperty("discount").GetInt64());
        Assert.Equal(98_900, order.GetProperty("total").GetInt64());

        await page.GotoAsync("/orders");
        await page.Locator($"#orders li[data-order-id='{orderId}'][data-status=paid]").WaitForAsync();
        await shots.TakeAsync(page, "orders");
        await page.Context.CloseAsync();
    }
}
