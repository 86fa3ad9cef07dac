using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;
using Microsoft.Playwright;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // one Chromium at a time on a small machine

namespace FlashMall.BrowserTests.Infrastructure;

/// <summary>
/// A FlashMall node on a real loopback port (the payment simulator calls it back over HTTP) and
/// Debian's Chromium driven by Playwright at a phone's viewport. The browser is the system's
/// (<c>/usr/bin/chromium</c>, which test.sh installs when missing); Playwright never downloads one.
/// </summary>
public sealed class StoreFixture : PaymentsFactory
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The node's address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var client = CreateClient(); // starts Kestrel
        BaseUrl = client.BaseAddress!.GetLeftPart(UriPartial.Authority);
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Environment.GetEnvironmentVariable("FLASHMALL_TEST_CHROMIUM") ?? ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>A fresh phone (its own storage, so its own signed-in buyer): 375×812, touch, <paramref name="locale"/>.</summary>
    public async Task<IPage> PhoneAsync(string locale = "en-US")
    {
        var context = await _browser!.NewContextAsync(new()
        {
            ViewportSize = new() { Width = 375, Height = 812 },
            DeviceScaleFactor = 2,
            IsMobile = true,
            HasTouch = true,
            Locale = locale,
            BaseURL = BaseUrl,
        });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    /// <summary>Signs <paramref name="user"/> in through the login page, then lands on <paramref name="next"/>.</summary>
    public static async Task LogInAsync(IPage page, TestUser user, string next = "/", string loginPath = "/login")
    {
        await page.GotoAsync($"{loginPath}?next={Uri.EscapeDataString(next)}");
        await page.FillAsync("#login", user.Email);
        await page.FillAsync("#password", user.Password);
        await page.ClickAsync("#submit");
        await page.WaitForURLAsync(url => new Uri(url).PathAndQuery == next);
    }

    /// <summary>A coupon template (amount off, in fen) a merchandiser created; its id.</summary>
    public static async Task<string> CouponTemplateAsync(HttpClient merchandiser, long amountOff, long minSpend)
    {
        var created = await merchandiser.PostAsJsonAsync("/api/admin/coupon-templates", new
        {
            name = "满100减10 Ten off", kind = "amount_off", value = amountOff, minSpend, totalQuantity = 10, perUserLimit = 1,
            validFrom = DateTimeOffset.UtcNow.AddMinutes(-1), validTo = DateTimeOffset.UtcNow.AddDays(7),
        });
        return (await created.JsonAsync(System.Net.HttpStatusCode.Created)).GetProperty("id").GetString()!;
    }

    /// <summary>Waits until the search index finds <paramref name="productId"/> for <paramref name="q"/>.</summary>
    public async Task WaitUntilSearchFindsAsync(string q, string productId)
    {
        using var client = CreateClient();
        for (var i = 0; i < 100; i++)
        {
            var found = await client.GetStringAsync($"/api/search?q={Uri.EscapeDataString(q)}&pageSize=100");
            if (found.Contains(productId, StringComparison.Ordinal))
            {
                return;
            }
            await Task.Delay(200);
        }
        Assert.Fail($"the search never found {productId} for '{q}'");
    }

    public override async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }
        _playwright?.Dispose();
        await base.DisposeAsync();
    }
}

/// <summary>
/// Screenshots of one test's steps, numbered in order, under the test output folder
/// (<c>bin/…/TestResults/screenshots</c>, or <c>FLASHMALL_SCREENSHOTS</c> when set).
/// </summary>
public sealed class Screenshots(string test)
{
    public static readonly string Folder = Environment.GetEnvironmentVariable("FLASHMALL_SCREENSHOTS")
        ?? Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    private int _step;

    public async Task TakeAsync(IPage page, string step)
    {
        Directory.CreateDirectory(Folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Folder, $"{test}-{++_step:00}-{step}.png") });
    }
}
