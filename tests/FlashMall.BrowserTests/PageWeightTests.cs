using System.Net;
using System.Text.RegularExpressions;
using FlashMall.ApiTests.Infrastructure;
using Xunit.Abstractions;

namespace FlashMall.BrowserTests;

/// <summary>Plain HTTP checks of what the pages cost a phone and how their assets are cached.</summary>
public sealed partial class PageWeightTests(FlashMallFactory node, ITestOutputHelper output) : IClassFixture<FlashMallFactory>
{
    private const int HomeBudgetBytes = 200 * 1024;

    [GeneratedRegex(@"(?:href|src)=""(/_content/FlashMall\.Web/[^""]+)""")]
    private static partial Regex AssetUrl();

    [Fact]
    public async Task Home_page_with_its_assets_and_API_calls_transfers_under_200_KB_compressed()
    {
        var merchandiser = (await node.NewUserAsync("merchandiser")).Client;
        for (var i = 0; i < 3; i++)
        {
            await node.LiveSaleAsync(merchandiser, quantity: 10, perUserLimit: 1);
        }
        using var phone = node.CreateClient();
        phone.DefaultRequestHeaders.AcceptEncoding.ParseAdd("br, gzip");

        var (html, htmlBytes) = await GetAsync(phone, "/");
        var assets = AssetUrl().Matches(html).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Equal(4, assets.Count); // stylesheet, manifest, icon, script
        long total = htmlBytes;
        foreach (var url in assets.Concat(["/api/flash-sales?status=live&pageSize=20", "/api/flash-sales?status=upcoming&pageSize=20", "/api/categories"]))
        {
            var (_, bytes) = await GetAsync(phone, url);
            output.WriteLine($"{url}: {bytes} bytes");
            total += bytes;
        }
        output.WriteLine($"home page total: {total} bytes (html {htmlBytes})");
        Assert.True(total < HomeBudgetBytes, $"the home page transfers {total} bytes");
    }

    [Fact]
    public async Task Page_assets_are_fingerprinted_and_cached_immutable_while_the_page_itself_revalidates()
    {
        using var phone = node.CreateClient();
        var page = await phone.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("no-cache", page.Headers.CacheControl?.ToString());
        var html = await page.Content.ReadAsStringAsync();
        var script = Assert.Single(AssetUrl().Matches(html), m => m.Groups[1].Value.EndsWith(".js", StringComparison.Ordinal)).Groups[1].Value;
        Assert.Matches(@"/app\.[a-z0-9]{6,}\.js$", script);

        var asset = await phone.GetAsync(script);
        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        var cache = asset.Headers.CacheControl!;
        Assert.Contains("immutable", cache.Extensions.Select(e => e.Name));
        Assert.Equal(TimeSpan.FromDays(365), cache.MaxAge);
        Assert.NotNull(asset.Headers.ETag);
    }

    [Fact]
    public async Task Pages_carry_no_inline_script_or_handler_and_a_strict_CSP()
    {
        using var phone = node.CreateClient();
        foreach (var path in new[] { "/", "/search?q=%E6%89%8B%E6%9C%BA", "/login", "/cart", "/ops", "/ops/switches", "/p/00000000-0000-0000-0000-000000000000" })
        {
            var page = await phone.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
            var html = await page.Content.ReadAsStringAsync();
            Assert.DoesNotMatch(@"<script(?![^>]*\bsrc=)[^>]*>", html);
            Assert.DoesNotMatch(@"\son[a-z]+\s*=", html);
            Assert.DoesNotMatch(@"\sstyle\s*=", html);
        }
    }

    [Fact]
    public async Task Every_page_has_its_own_deep_link_and_a_web_app_manifest()
    {
        using var phone = node.CreateClient();
        foreach (var path in new[] { "/", "/search", "/c/abc", "/p/abc", "/sale/abc", "/login", "/register", "/cart", "/checkout", "/orders", "/orders/abc",
                     "/coupons", "/me", "/circle", "/circle/new", "/ops", "/ops/login", "/ops/sales/abc", "/ops/switches", "/ops/audit", "/ops/risk",
                     "/ops/dead-letters", "/ops/jobs", "/ops/slow-queries", "/ops/products/new", "/ops/sales/new", "/ops/coupons/new" })
        {
            var page = await phone.GetAsync(path);
            Assert.True(page.StatusCode == HttpStatusCode.OK, $"{path}: {page.StatusCode}");
            Assert.Contains("data-page=", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var html = await phone.GetStringAsync("/");
        var manifest = Assert.Single(AssetUrl().Matches(html), m => m.Groups[1].Value.EndsWith(".webmanifest", StringComparison.Ordinal)).Groups[1].Value;
        var json = await (await phone.GetAsync(manifest)).JsonAsync();
        Assert.Equal("/", json.GetProperty("start_url").GetString());
        Assert.Equal("standalone", json.GetProperty("display").GetString());
    }

    private static async Task<(string Text, long Bytes)> GetAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        Assert.True(response.IsSuccessStatusCode, $"{url}: {response.StatusCode}");
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var encoding = response.Content.Headers.ContentEncoding.FirstOrDefault();
        var text = encoding is null ? System.Text.Encoding.UTF8.GetString(bytes) : "";
        // Headers travel too: count them (HTTP/1.1 status line and header lines).
        var headerBytes = response.Headers.Concat(response.Content.Headers).Sum(h => h.Key.Length + 4 + string.Join(", ", h.Value).Length);
        return (text, bytes.LongLength + headerBytes);
    }
}
