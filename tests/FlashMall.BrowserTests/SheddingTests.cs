using System.Net;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.BrowserTests.Infrastructure;

namespace FlashMall.BrowserTests;

public sealed class SheddingTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    [Fact]
    public async Task Operator_sheds_noncore_traffic_in_the_console_and_the_store_degrades_while_the_buy_button_still_works()
    {
        var shots = new Screenshots("shedding");
        var merchandiser = (await store.NewUserAsync("merchandiser")).Client;
        var sale = await store.LiveSaleAsync(merchandiser, quantity: 5, perUserLimit: 1);
        var operatorUser = await store.NewUserAsync("operator");
        var buyer = await store.NewUserAsync();

        var phone = await store.PhoneAsync();
        await StoreFixture.LogInAsync(phone, buyer);
        await phone.Locator($"#live li[data-sale-id='{sale}']").WaitForAsync();

        var console = await store.PhoneAsync();
        await StoreFixture.LogInAsync(console, operatorUser, "/ops/switches", "/ops/login");
        var row = console.Locator("tr[data-switch='noncore.shed']");
        await row.Locator("[data-reason-for='noncore.shed']").FillAsync("20:00 sale peak: keep buying and paying fast");
        await shots.TakeAsync(console, "console-switches");
        await row.Locator("button[data-switch='noncore.shed']").ClickAsync();
        await console.Locator("tr[data-switch='noncore.shed'][data-enabled=true]").WaitForAsync();
        Assert.Contains(operatorUser.UserId, await console.Locator("tr[data-switch='noncore.shed']").TextContentAsync() ?? "", StringComparison.Ordinal);
        await shots.TakeAsync(console, "console-shed-on");

        var home = await phone.GotoAsync("/");
        Assert.Equal((int)HttpStatusCode.ServiceUnavailable, home!.Status);
        Assert.StartsWith("text/html", home.Headers["content-type"], StringComparison.Ordinal);
        await phone.Locator("main[data-page=degraded] h1").WaitForAsync();
        Assert.Equal("We are very busy right now", await phone.TextContentAsync("main h1"));
        var card = phone.Locator($"#live li[data-sale-id='{sale}']");
        await shots.TakeAsync(phone, "store-degraded");
        await card.Locator("button.buy:not([disabled])").ClickAsync();
        await card.Locator(".buy-status[data-state=ordered]").WaitForAsync(new() { Timeout = 30_000 });
        await shots.TakeAsync(phone, "degraded-buy-ordered");

        Assert.Equal((int)HttpStatusCode.ServiceUnavailable, (await phone.GotoAsync("/search?q=phone"))!.Status);
        Assert.Equal((int)HttpStatusCode.OK, (await console.GotoAsync("/ops/switches"))!.Status); // the console is never shed

        var restore = console.Locator("tr[data-switch='noncore.shed']");
        await restore.Locator("[data-reason-for='noncore.shed']").FillAsync("peak over");
        await restore.Locator("button[data-switch='noncore.shed']").ClickAsync();
        await console.Locator("tr[data-switch='noncore.shed'][data-enabled=false]").WaitForAsync();
        Assert.Equal((int)HttpStatusCode.OK, (await phone.GotoAsync("/"))!.Status);
        await phone.Locator("main[data-page=home]").WaitForAsync();

        await console.GotoAsync("/ops/audit");
        await console.Locator("#rows tr", new() { HasText = "peak over" }).First.WaitForAsync();
        await shots.TakeAsync(console, "console-audit");

        await phone.Context.CloseAsync();
        await console.Context.CloseAsync();
    }
}
