using FlashMall.ApiTests.Infrastructure;
using FlashMall.BrowserTests.Infrastructure;
using SkiaSharp;

namespace FlashMall.BrowserTests;

public sealed class CircleTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    [Fact]
    public async Task Buyer_posts_a_photo_to_the_circle_and_the_feed_shows_it_with_the_text_as_text()
    {
        var shots = new Screenshots("circle");
        var buyer = await store.NewUserAsync();
        const string text = "<script>window.__pwned=1</script>今天抢到的好物 <b>great</b>";
        var page = await store.PhoneAsync("zh-CN");
        await StoreFixture.LogInAsync(page, buyer, "/circle/new");
        await page.FillAsync("#text", text);
        await page.SetInputFilesAsync("#images", new Microsoft.Playwright.FilePayload
        {
            Name = "photo.jpg", MimeType = "image/jpeg", Buffer = TestImages.Photo(800, 600, SKEncodedImageFormat.Jpeg),
        });
        await page.Locator("#previews img").WaitForAsync();
        await shots.TakeAsync(page, "compose");
        await page.ClickAsync("#publish");
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/circle");

        var post = page.Locator("#feed li").First;
        await post.Locator(".text").WaitForAsync();
        Assert.Equal(text, await post.Locator(".text").TextContentAsync());
        Assert.Equal(0, await page.Locator("#feed script, #feed b").CountAsync());
        var thumb = post.Locator(".thumbs img");
        await thumb.WaitForAsync();
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#feed .thumbs img')].every(i => i.complete && i.naturalWidth > 0)");
        Assert.True(await page.EvaluateAsync<bool>("() => window.__pwned === undefined"));
        await shots.TakeAsync(page, "feed");
        await page.Context.CloseAsync();
    }
}
