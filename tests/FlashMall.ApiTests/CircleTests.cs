using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Circle.Persistence;
using FlashMall.Kernel.Messaging;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace FlashMall.ApiTests;

public sealed class CircleTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    private static async Task<string> PostAsync(HttpClient client, string text)
    {
        var response = await client.PostAsync("/api/circle/posts", TestImages.Post(text));
        return (await response.JsonAsync(HttpStatusCode.Created)).GetProperty("postId").GetString()!;
    }

    private static async Task<JsonElement> FeedAsync(HttpClient client, string query) =>
        await (await client.GetAsync("/api/circle/feed?" + query)).JsonAsync();

    private static List<string> Ids(JsonElement page) => [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("postId").GetString()!)];

    [Fact]
    public async Task Posting_without_a_token_is_401_and_a_post_needs_text_or_an_image()
    {
        using var anonymous = factory.CreateClient();
        var refused = await anonymous.PostAsync("/api/circle/posts", TestImages.Post("hello"));
        await refused.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");

        using var client = (await factory.NewUserAsync()).Client;
        var empty = await client.PostAsync("/api/circle/posts", TestImages.Post("  "));
        await empty.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");

        var tooLong = await client.PostAsync("/api/circle/posts", TestImages.Post(new string('好', 1001)));
        var problem = await tooLong.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("text", out _));

        var longest = await client.PostAsync("/api/circle/posts", TestImages.Post(new string('好', 1000)));
        await longest.EnsureStatusAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Text_is_stored_as_given_and_encoded_on_output_and_the_post_publishes_PostCreated()
    {
        using var client = (await factory.NewUserAsync()).Client;
        const string text = "<script>alert('x')</script> & 好物分享 \"quoted\"";
        var productId = await ProductAsync();
        var body = TestImages.Post(text);
        body.Add(new StringContent(productId), "productIds");
        var postId = (await (await client.PostAsync("/api/circle/posts", body)).JsonAsync(HttpStatusCode.Created)).GetProperty("postId").GetString()!;

        var response = await client.GetAsync($"/api/circle/posts/{postId}");
        var raw = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>", raw, StringComparison.Ordinal);
        Assert.Contains("\\u003Cscript\\u003E", raw, StringComparison.Ordinal);
        var post = JsonDocument.Parse(raw).RootElement;
        Assert.Equal(text, post.GetProperty("text").GetString());
        Assert.Equal(productId, post.GetProperty("productIds")[0].GetString());

        var events = await factory.WithScopeAsync(s => s.GetRequiredService<CircleDbContext>().Set<OutboxMessage>().AsNoTracking()
            .Where(m => m.AggregateId == postId).ToListAsync());
        var created = Assert.Single(events);
        Assert.EndsWith("PostCreated", created.Type, StringComparison.Ordinal);
        Assert.Equal(text, JsonDocument.Parse(created.Payload).RootElement.GetProperty("Text").GetString());
    }

    /// <summary>A product made by a merchandiser: its id.</summary>
    private async Task<string> ProductAsync()
    {
        using var merchandiser = (await factory.NewUserAsync("merchandiser")).Client;
        var created = await merchandiser.CreateProductAsync(CatalogHelpers.ProductBody(await factory.CategoryAsync()));
        return created.GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Linked_products_must_exist_and_be_product_ids()
    {
        using var client = (await factory.NewUserAsync()).Client;
        var product = await ProductAsync();
        var unknown = Guid.NewGuid().ToString();
        var body = TestImages.Post("links");
        body.Add(new StringContent($"{product},{unknown}"), "productIds");
        var refused = await client.PostAsync("/api/circle/posts", body);
        var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Contains(unknown, problem.GetProperty("errors").GetProperty("productIds")[0].GetString(), StringComparison.Ordinal);

        var garbage = TestImages.Post("links");
        garbage.Add(new StringContent("not-an-id"), "productIds");
        await (await client.PostAsync("/api/circle/posts", garbage)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");

        var accepted = TestImages.Post("links");
        accepted.Add(new StringContent(product), "productIds");
        accepted.Add(new StringContent(product), "productIds");
        var postId = (await (await client.PostAsync("/api/circle/posts", accepted)).JsonAsync(HttpStatusCode.Created)).GetProperty("postId").GetString();
        var post = await (await client.GetAsync($"/api/circle/posts/{postId}")).JsonAsync();
        Assert.Equal([product], post.GetProperty("productIds").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task The_feed_pages_newest_first_without_duplicates_while_new_posts_arrive()
    {
        var poster = await factory.NewUserAsync();
        // Other tests post to this node's feed too: page through everything and follow only these.
        var mine = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            mine.Add(await PostAsync(poster.Client, $"feed post {i}"));
        }
        using var reader = factory.CreateClient();
        var first = await FeedAsync(reader, "page=1&pageSize=3");
        var before = first.GetProperty("before").GetString()!;
        var total = first.GetProperty("total").GetInt32();
        var seen = Ids(first);
        Assert.Equal(mine[^1], seen[0]); // newest first

        var arrivals = new List<string>();
        for (var page = 2; seen.Count < total; page++)
        {
            arrivals.Add(await PostAsync(poster.Client, $"arrived during paging {page}"));
            var next = await FeedAsync(reader, $"page={page}&pageSize=3&before={before}");
            Assert.Equal(total, next.GetProperty("total").GetInt32());
            Assert.Equal(before, next.GetProperty("before").GetString());
            seen.AddRange(Ids(next));
        }
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Empty(seen.Intersect(arrivals));
        Assert.Equal(mine.AsEnumerable().Reverse(), seen.Where(mine.Contains));

        // A fresh first page sees the arrivals.
        var fresh = Ids(await FeedAsync(reader, "pageSize=100"));
        Assert.Equal(arrivals[^1], fresh[0]);
    }

    [Fact]
    public async Task Cursor_paging_continues_after_the_last_post_seen_whatever_arrives()
    {
        var poster = await factory.NewUserAsync();
        using var reader = factory.CreateClient();
        var mine = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            mine.Add(await PostAsync(poster.Client, $"cursor post {i}"));
        }
        var arrivals = new List<string>();
        var page = await FeedAsync(reader, "pageSize=2");
        var seen = Ids(page);
        while (page.GetProperty("nextCursor").GetString() is { } cursor)
        {
            arrivals.Add(await PostAsync(poster.Client, "arrived meanwhile"));
            page = await FeedAsync(reader, $"pageSize=2&cursor={cursor}");
            seen.AddRange(Ids(page));
        }
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Empty(seen.Intersect(arrivals));
        Assert.Equal(mine.AsEnumerable().Reverse(), seen.Where(mine.Contains));
        Assert.NotEmpty(arrivals);

        var badCursor = await reader.GetAsync("/api/circle/feed?cursor=not-a-cursor");
        await badCursor.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task A_like_counts_once_per_user_however_often_it_is_sent()
    {
        var author = await factory.NewUserAsync();
        var postId = await PostAsync(author.Client, "like me");
        using var fan = (await factory.NewUserAsync()).Client;
        var likes = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => fan.PostAsync($"/api/circle/posts/{postId}/likes", null)));
        foreach (var like in likes)
        {
            Assert.True((await like.JsonAsync()).GetProperty("liked").GetBoolean());
        }
        var second = await (await author.Client.PostAsync($"/api/circle/posts/{postId}/likes", null)).JsonAsync();
        Assert.Equal(2, second.GetProperty("likes").GetInt32());
        var post = await (await fan.GetAsync($"/api/circle/posts/{postId}")).JsonAsync();
        Assert.Equal(2, post.GetProperty("likes").GetInt32());

        var unliked = await (await fan.DeleteAsync($"/api/circle/posts/{postId}/likes")).JsonAsync();
        Assert.Equal(1, unliked.GetProperty("likes").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await fan.PostAsync($"/api/circle/posts/{Guid.NewGuid()}/likes", null)).StatusCode);
    }

    [Fact]
    public async Task Comments_are_added_and_listed_oldest_first()
    {
        var author = await factory.NewUserAsync();
        var postId = await PostAsync(author.Client, "comment on me");
        using var other = (await factory.NewUserAsync()).Client;
        await (await other.PostAsJsonAsync($"/api/circle/posts/{postId}/comments", new { text = "第一 <b>first</b>" })).JsonAsync(HttpStatusCode.Created);
        await (await author.Client.PostAsJsonAsync($"/api/circle/posts/{postId}/comments", new { text = "second" })).JsonAsync(HttpStatusCode.Created);
        var empty = await other.PostAsJsonAsync($"/api/circle/posts/{postId}/comments", new { text = " " });
        await empty.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");

        var comments = await (await other.GetAsync($"/api/circle/posts/{postId}/comments")).JsonAsync();
        Assert.Equal(2, comments.GetProperty("total").GetInt32());
        Assert.Equal(["第一 <b>first</b>", "second"], comments.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("text").GetString()));
        Assert.Equal(2, (await (await other.GetAsync($"/api/circle/posts/{postId}")).JsonAsync()).GetProperty("comments").GetInt32());
    }

    [Fact]
    public async Task Only_the_author_or_an_operator_deletes_a_post_and_it_leaves_the_feed()
    {
        var author = await factory.NewUserAsync();
        var postId = await PostAsync(author.Client, "delete me");
        using var stranger = (await factory.NewUserAsync()).Client;
        var refused = await stranger.DeleteAsync($"/api/circle/posts/{postId}");
        await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        Assert.Equal(HttpStatusCode.NoContent, (await author.Client.DeleteAsync($"/api/circle/posts/{postId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/circle/posts/{postId}")).StatusCode);
        Assert.DoesNotContain(postId, Ids(await FeedAsync(stranger, "pageSize=100")));

        var another = await PostAsync(author.Client, "an operator removes this");
        using var operatorClient = (await factory.NewUserAsync("operator")).Client;
        Assert.Equal(HttpStatusCode.NoContent, (await operatorClient.DeleteAsync($"/api/circle/posts/{another}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/circle/posts/{another}")).StatusCode);
    }

    [Fact]
    public async Task Three_reports_from_different_users_hide_a_post_and_one_user_counts_once()
    {
        var author = await factory.NewUserAsync();
        var postId = await PostAsync(author.Client, "spam spam spam");
        using var first = (await factory.NewUserAsync()).Client;
        for (var i = 0; i < 3; i++)
        {
            await (await first.PostAsJsonAsync($"/api/circle/posts/{postId}/reports", new { reason = "spam" })).JsonAsync();
        }
        await (await author.Client.GetAsync($"/api/circle/posts/{postId}")).JsonAsync(); // still visible
        using var second = (await factory.NewUserAsync()).Client;
        using var third = (await factory.NewUserAsync()).Client;
        await (await second.PostAsJsonAsync($"/api/circle/posts/{postId}/reports", new { reason = "spam" })).JsonAsync();
        await (await third.PostAsJsonAsync($"/api/circle/posts/{postId}/reports", new { })).JsonAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await first.GetAsync($"/api/circle/posts/{postId}")).StatusCode);
        Assert.DoesNotContain(postId, Ids(await FeedAsync(first, "pageSize=100")));
        var hidden = await factory.WithScopeAsync(s => s.GetRequiredService<CircleDbContext>().Set<OutboxMessage>().AsNoTracking()
            .CountAsync(m => m.AggregateId == postId && m.Type.EndsWith("PostHidden")));
        Assert.Equal(1, hidden);

        // An operator reviews it: listed with the reasons, then restored to the feed.
        Assert.Equal(HttpStatusCode.Forbidden, (await first.GetAsync("/api/admin/circle/hidden")).StatusCode);
        using var reviewer = (await factory.NewUserAsync("operator")).Client;
        var queue = await (await reviewer.GetAsync("/api/admin/circle/hidden?pageSize=100")).JsonAsync();
        var entry = queue.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("post").GetProperty("postId").GetString() == postId);
        Assert.Equal(3, entry.GetProperty("reports").GetInt32());
        Assert.Equal(["spam"], entry.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(HttpStatusCode.NoContent, (await reviewer.PostAsync($"/api/admin/circle/posts/{postId}/restore", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reviewer.PostAsync($"/api/admin/circle/posts/{postId}/restore", null)).StatusCode);
        await (await first.GetAsync($"/api/circle/posts/{postId}")).JsonAsync();
        Assert.Contains(postId, Ids(await FeedAsync(first, "pageSize=100")));
    }

    [Fact]
    public async Task The_following_feed_shows_only_followed_authors()
    {
        var followed = await factory.NewUserAsync();
        var ignored = await factory.NewUserAsync();
        var follower = await factory.NewUserAsync();
        var wanted = await PostAsync(followed.Client, "from someone I follow");
        var unwanted = await PostAsync(ignored.Client, "from a stranger");
        Assert.Equal(HttpStatusCode.NoContent, (await follower.Client.PutAsync($"/api/circle/following/{followed.UserId}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await follower.Client.PutAsync($"/api/circle/following/{followed.UserId}", null)).StatusCode);
        var self = await follower.Client.PutAsync($"/api/circle/following/{follower.UserId}", null);
        await self.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(HttpStatusCode.NotFound, (await follower.Client.PutAsync($"/api/circle/following/{Guid.NewGuid()}", null)).StatusCode);

        var feed = Ids(await (await follower.Client.GetAsync("/api/circle/feed/following")).JsonAsync());
        Assert.Equal([wanted], feed);
        Assert.DoesNotContain(unwanted, feed);

        Assert.Equal(HttpStatusCode.NoContent, (await follower.Client.DeleteAsync($"/api/circle/following/{followed.UserId}")).StatusCode);
        Assert.Empty(Ids(await (await follower.Client.GetAsync("/api/circle/feed/following")).JsonAsync()));
    }
}

/// <summary>Changes its configuration at run time: a node of its own.</summary>
public sealed class CircleReadOnlyTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    private void SetReadOnly(bool readOnly)
    {
        var configuration = (IConfigurationRoot)factory.Services.GetRequiredService<IConfiguration>();
        configuration["Circle:ReadOnly"] = readOnly ? "true" : "false";
        configuration.Reload();
    }

    [Fact]
    public async Task Read_only_refuses_every_write_with_503_and_keeps_serving_reads()
    {
        var author = await factory.NewUserAsync();
        var created = await author.Client.PostAsync("/api/circle/posts",
            TestImages.Post("before the switch", TestImages.Jpeg(TestImages.Photo(200, 100, SKEncodedImageFormat.Jpeg))));
        var body = await created.JsonAsync(HttpStatusCode.Created);
        var postId = body.GetProperty("postId").GetString()!;
        var imageUrl = body.GetProperty("images")[0].GetProperty("url").GetString()!;

        SetReadOnly(true);
        try
        {
            var refusals = new[]
            {
                await author.Client.PostAsync("/api/circle/posts", TestImages.Post("during")),
                await author.Client.PostAsync($"/api/circle/posts/{postId}/likes", null),
                await author.Client.PostAsJsonAsync($"/api/circle/posts/{postId}/comments", new { text = "during" }),
                await author.Client.PostAsJsonAsync($"/api/circle/posts/{postId}/reports", new { }),
                await author.Client.DeleteAsync($"/api/circle/posts/{postId}"),
            };
            foreach (var refusal in refusals)
            {
                await refusal.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "read_only");
            }
            using var reader = factory.CreateClient();
            var feed = await (await reader.GetAsync("/api/circle/feed")).JsonAsync();
            Assert.Equal(postId, feed.GetProperty("items")[0].GetProperty("postId").GetString());
            await (await reader.GetAsync($"/api/circle/posts/{postId}")).JsonAsync();
            await (await reader.GetAsync($"/api/circle/posts/{postId}/comments")).JsonAsync();
            await (await reader.GetAsync(imageUrl)).EnsureStatusAsync(HttpStatusCode.OK);
        }
        finally
        {
            SetReadOnly(false);
        }
        var after = await author.Client.PostAsync($"/api/circle/posts/{postId}/likes", null);
        Assert.Equal(1, (await after.JsonAsync()).GetProperty("likes").GetInt32());
        Assert.Equal(0, (await (await author.Client.GetAsync($"/api/circle/posts/{postId}/comments")).JsonAsync()).GetProperty("total").GetInt32());
    }
}
