using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.BrowserTests.Infrastructure;

namespace FlashMall.BrowserTests;

public sealed partial class ConsoleTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex Id();

    [Fact]
    public async Task Live_sale_view_refreshes_within_two_seconds_with_remaining_rates_lag_and_reconciliation()
    {
        var shots = new Screenshots("console-live");
        var merchandiser = (await store.NewUserAsync("merchandiser")).Client;
        var sale = await store.LiveSaleAsync(merchandiser, quantity: 20, perUserLimit: 1);
        var operatorUser = await store.NewUserAsync("operator");

        var page = await store.PhoneAsync();
        await StoreFixture.LogInAsync(page, operatorUser, "/ops", "/ops/login");
        await page.Locator($"#sales a[href='/ops/sales/{sale}']").ClickAsync();
        await page.Locator("#m-recon[data-ok=true]").WaitForAsync();
        Assert.Equal("20 / 20", await page.TextContentAsync("#m-remaining"));

        for (var i = 0; i < 3; i++)
        {
            var buyer = await store.NewUserAsync();
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flash-sales/{sale}/purchase") { Content = JsonContent.Create(new { quantity = 1 }) };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            Assert.Equal(HttpStatusCode.Accepted, (await buyer.Client.SendAsync(request)).StatusCode);
        }
        var updated = await page.TextContentAsync("#updated");
        await page.Locator("#m-remaining", new() { HasText = "17 / 20" }).WaitForAsync(new() { Timeout = 5_000 });
        await page.WaitForTimeoutAsync(2_000);
        Assert.NotEqual(updated, await page.TextContentAsync("#updated")); // refreshed within 2 s
        await page.Locator("#m-recon[data-ok=true]").WaitForAsync(new() { Timeout = 10_000 });
        Assert.Equal(1, await page.Locator("#chart polyline").CountAsync());
        await shots.TakeAsync(page, "live-sale");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Merchandiser_creates_a_product_a_sale_and_a_coupon_template_in_the_console()
    {
        var shots = new Screenshots("console-create");
        await store.CategoryAsync("家电 Appliances");
        var merchandiser = await store.NewUserAsync("merchandiser");
        var page = await store.PhoneAsync();
        await StoreFixture.LogInAsync(page, merchandiser, "/ops/products/new", "/ops/login");

        await page.Locator("#p-category option").First.WaitForAsync(new() { State = Microsoft.Playwright.WaitForSelectorState.Attached });
        await page.FillAsync("#p-name", "小米电视 Mi TV 65");
        await page.FillAsync("#p-description", "65 英寸");
        await page.FillAsync("#p-brand", "Xiaomi");
        await page.FillAsync("#p-code", $"TV-{Guid.NewGuid():N}"[..20]);
        await page.FillAsync("#p-price", "3999.00");
        await page.FillAsync("#p-stock", "50");
        await CreateAsync(page);
        var ids = Id().Matches(await page.TextContentAsync("#result") ?? "").Select(m => m.Value).ToList();
        Assert.Equal(2, ids.Count); // the product, then its SKU
        await shots.TakeAsync(page, "product-created");
        using var anonymous = store.CreateClient();
        var product = await (await anonymous.GetAsync($"/api/products/{ids[0]}")).JsonAsync();
        Assert.Equal("小米电视 Mi TV 65", product.GetProperty("name").GetString());
        Assert.Equal(399_900, product.GetProperty("skus")[0].GetProperty("price").GetInt64());

        await page.GotoAsync("/ops/sales/new");
        await page.FillAsync("#s-sku", ids[1]);
        await page.FillAsync("#s-price", "2999");
        await page.FillAsync("#s-quantity", "10");
        await page.FillAsync("#s-limit", "1");
        await page.FillAsync("#s-starts", DateTime.Now.AddMinutes(30).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await page.FillAsync("#s-ends", DateTime.Now.AddMinutes(90).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await CreateAsync(page);
        var saleLink = page.Locator("#result a");
        var saleId = await saleLink.TextContentAsync();
        await shots.TakeAsync(page, "sale-created");
        var sale = await (await anonymous.GetAsync($"/api/flash-sales/{saleId}")).JsonAsync();
        Assert.Equal(("upcoming", 299_900, 10), (sale.GetProperty("status").GetString(), sale.GetProperty("salePrice").GetInt64(), sale.GetProperty("quantity").GetInt32()));

        await page.GotoAsync("/ops/coupons/new");
        await page.FillAsync("#c-name", "满1000减100");
        await page.SelectOptionAsync("#c-kind", "amount_off");
        await page.FillAsync("#c-value", "10000");
        await page.FillAsync("#c-min", "1000");
        await page.FillAsync("#c-total", "100");
        await page.FillAsync("#c-from", DateTime.Now.AddMinutes(-5).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await page.FillAsync("#c-to", DateTime.Now.AddDays(3).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await CreateAsync(page);
        await shots.TakeAsync(page, "coupon-created");

        // The link the console gives is the claim deep link a buyer follows.
        await page.ClickAsync("#result a");
        await page.ClickAsync("#claim");
        await page.Locator("#coupons li[data-status=unused]").WaitForAsync();
        await page.Context.CloseAsync();
    }

    /// <summary>Submits a console form; fails with the refusal the page shows when there is one.</summary>
    private static async Task CreateAsync(Microsoft.Playwright.IPage page)
    {
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        page.Response += (_, response) => errors.Add($"{response.Request.Method} {response.Url} {response.Status}");
        page.Console += (_, message) => errors.Add(message.Text);
        page.Request += (_, request) => errors.Add($"sent {request.Method} {request.Url}");
        await page.Locator("body[data-ready]").WaitForAsync(new() { State = Microsoft.Playwright.WaitForSelectorState.Attached });
        await page.ClickAsync("#create");
        try
        {
            await page.Locator("#result a, #error:not(:empty)").First.WaitForAsync();
        }
        catch (TimeoutException)
        {
            var state = await page.EvaluateAsync<string>("() => document.body.dataset.ready + ' ' + location.href + ' ' + [...document.querySelectorAll('input,select')].map(i => i.id + '=' + i.value).join(',') + ' result=' + document.querySelector('#result').textContent");
            Assert.Fail($"no answer on the page: {state}; script errors: {string.Join(" | ", errors)}");
        }
        Assert.Equal("", await page.TextContentAsync("#error"));
    }

    [Fact]
    public async Task Operator_lists_render_jobs_dead_letters_risk_decisions_and_slow_queries_or_say_not_available()
    {
        var shots = new Screenshots("console-lists");
        var operatorUser = await store.NewUserAsync("operator");
        var page = await store.PhoneAsync();
        await StoreFixture.LogInAsync(page, operatorUser, "/ops/jobs", "/ops/login");
        await page.Locator("#rows tr td").First.WaitForAsync();
        Assert.True(await page.Locator("#rows button").CountAsync() > 0); // run now
        await shots.TakeAsync(page, "jobs");
        foreach (var section in new[] { "dead-letters", "risk", "slow-queries" })
        {
            var response = await page.GotoAsync($"/ops/{section}");
            Assert.Equal((int)HttpStatusCode.OK, response!.Status);
            await page.Locator("#rows tr, #unavailable:not([hidden])").First.WaitForAsync();
            Assert.Equal("", await page.TextContentAsync("#error"));
            await shots.TakeAsync(page, section);
        }
        await page.Context.CloseAsync();
    }
}
