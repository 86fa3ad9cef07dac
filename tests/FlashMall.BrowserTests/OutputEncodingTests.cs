using System.Net;
using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.BrowserTests.Infrastructure;

namespace FlashMall.BrowserTests;

public sealed class OutputEncodingTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    private const string Evil = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">Evil 手机";

    [Fact]
    public async Task A_script_in_a_product_name_renders_as_text_and_never_runs_under_the_CSP()
    {
        var shots = new Screenshots("xss");
        var merchandiser = (await store.NewUserAsync("merchandiser")).Client;
        var category = await store.CategoryAsync();
        var product = await merchandiser.CreateProductAsync(CatalogHelpers.ProductBody(category, Evil, price: 20_000));
        var productId = product.GetProperty("id").GetString()!;
        var sku = product.GetProperty("skus")[0].GetProperty("id").GetString()!;
        var created = await merchandiser.PostAsJsonAsync("/api/admin/flash-sales", new
        {
            skuId = sku, salePrice = 10_000, quantity = 2, perUserLimit = 1,
            startsAt = DateTimeOffset.UtcNow.AddSeconds(-1), endsAt = DateTimeOffset.UtcNow.AddHours(1),
        });
        await created.EnsureStatusAsync(HttpStatusCode.Created);

        var page = await store.PhoneAsync();
        var violations = new List<string>();
        page.Console += (_, message) => violations.Add(message.Text);
        var response = await page.GotoAsync($"/p/{productId}");
        var csp = response!.Headers["content-security-policy"];
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);

        await page.Locator("#name").Filter(new() { HasText = "Evil" }).WaitForAsync();
        Assert.Equal(Evil, await page.TextContentAsync("#name"));
        Assert.Equal(0, await page.Locator("main script, main img[src=x]").CountAsync());
        await shots.TakeAsync(page, "product-name-as-text");

        await page.GotoAsync("/");
        var card = page.Locator("#live li .name", new() { HasText = "Evil" });
        await card.WaitForAsync();
        Assert.Equal(Evil, await card.TextContentAsync());
        await page.WaitForTimeoutAsync(300); // an onerror handler would have fired by now
        Assert.True(await page.EvaluateAsync<bool>("() => window.__pwned === undefined"));
        await shots.TakeAsync(page, "home-name-as-text");

        // The CSP itself blocks what encoding would have let through: an injected inline script never runs.
        await page.EvaluateAsync("() => { const s = document.createElement('script'); s.textContent = 'window.__pwned = 3'; document.body.append(s); }");
        await page.WaitForTimeoutAsync(200);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__pwned === undefined"));
        Assert.Contains(violations, text => text.Contains("Content Security Policy", StringComparison.Ordinal));
        await page.Context.CloseAsync();
    }
}
