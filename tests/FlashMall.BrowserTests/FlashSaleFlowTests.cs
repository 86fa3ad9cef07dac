using FlashMall.ApiTests.Infrastructure;
using FlashMall.BrowserTests.Infrastructure;

namespace FlashMall.BrowserTests;

public sealed class FlashSaleFlowTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    [Fact]
    public async Task Buyer_buys_in_a_live_sale_and_sees_the_order_and_a_second_buyer_sees_sold_out_on_the_last_unit()
    {
        var shots = new Screenshots("flash-sale");
        var merchandiser = (await store.NewUserAsync("merchandiser")).Client;
        var sale = await store.LiveSaleAsync(merchandiser, quantity: 1, perUserLimit: 1);
        var first = await store.NewUserAsync();
        var second = await store.NewUserAsync();

        var page = await store.PhoneAsync();
        var purchaseKeys = new List<string?>();
        page.Request += (_, request) =>
        {
            if (request.Url.EndsWith("/purchase", StringComparison.Ordinal))
            {
                purchaseKeys.Add(request.Headers.GetValueOrDefault("idempotency-key"));
            }
        };
        await StoreFixture.LogInAsync(page, first);
        var card = page.Locator($"#live li[data-sale-id='{sale}']");
        var buy = card.Locator("button.buy:not([disabled])");
        await buy.WaitForAsync();

        // The countdown ticks on the server's clock without moving anything on the page.
        var clock = card.Locator(".countdown");
        await page.EvaluateAsync("() => { window.__shift = 0; new PerformanceObserver(list => { for (const e of list.getEntries()) window.__shift += e.value; }).observe({ type: 'layout-shift' }); }");
        var before = (await clock.BoundingBoxAsync(), await buy.BoundingBoxAsync(), await clock.TextContentAsync());
        await page.WaitForTimeoutAsync(2_200);
        var after = (await clock.BoundingBoxAsync(), await buy.BoundingBoxAsync(), await clock.TextContentAsync());
        Assert.NotEqual(before.Item3, after.Item3);
        Assert.Equal((before.Item1!.X, before.Item1.Width, before.Item2!.Y), (after.Item1!.X, after.Item1.Width, after.Item2!.Y));
        var shift = await page.EvaluateAsync<double>("() => window.__shift");
        Assert.True(shift == 0, $"layout shift while the countdown ticked: {shift}");
        await shots.TakeAsync(page, "home-live-sale");

        await buy.ClickAsync();
        await card.Locator(".buy-status[data-state=ordered]").WaitForAsync(new() { Timeout = 30_000 });
        await shots.TakeAsync(page, "ordered");
        var key = Assert.Single(purchaseKeys);
        Assert.False(string.IsNullOrWhiteSpace(key));

        await card.Locator("#order-link").ClickAsync();
        await page.Locator("#status[data-status=pending_payment]").WaitForAsync();
        Assert.Contains("秒杀手机", await page.TextContentAsync("#lines"), StringComparison.Ordinal);
        await page.Locator("#address-form").WaitForAsync();
        await shots.TakeAsync(page, "order");

        var late = await store.PhoneAsync("zh-CN");
        await StoreFixture.LogInAsync(late, second, $"/sale/{sale}");
        var lateBuy = late.Locator("button.buy:not([disabled])");
        await lateBuy.WaitForAsync();
        await lateBuy.ClickAsync();
        var refusal = late.Locator(".buy-status[data-code=sold_out]");
        await refusal.WaitForAsync();
        Assert.Equal("已抢光", await refusal.TextContentAsync());
        Assert.True(await late.Locator("button.buy").IsDisabledAsync());
        await shots.TakeAsync(late, "sold-out");

        await page.Context.CloseAsync();
        await late.Context.CloseAsync();
    }
}
