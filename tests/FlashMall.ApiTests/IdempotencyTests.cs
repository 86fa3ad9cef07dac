using System.Net;
using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Catalog.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>The <c>Idempotency-Key</c> contract of API.md, on product creation.</summary>
public sealed class IdempotencyTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    [Fact]
    public async Task Same_key_and_body_replays_the_first_answer_and_creates_once()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var body = CatalogHelpers.ProductBody(category, "幂等 Idempotent", code: $"I-{Guid.NewGuid():N}");
        var key = Guid.NewGuid().ToString();

        var first = await Send(merchandiser.Client, key, body);
        var firstJson = await first.JsonAsync(HttpStatusCode.Created);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));

        var again = await Send(merchandiser.Client, key, body);
        var againJson = await again.JsonAsync(HttpStatusCode.Created);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(firstJson.GetRawText(), againJson.GetRawText());
        Assert.Equal(first.Headers.Location, again.Headers.Location);
        Assert.Equal(1, await CountByNameAsync("幂等 Idempotent"));
    }

    [Fact]
    public async Task Same_key_with_a_different_body_is_422_and_writes_nothing()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var key = Guid.NewGuid().ToString();
        await (await Send(merchandiser.Client, key, CatalogHelpers.ProductBody(category, "第一 First", code: $"A-{Guid.NewGuid():N}")))
            .EnsureStatusAsync(HttpStatusCode.Created);

        await (await Send(merchandiser.Client, key, CatalogHelpers.ProductBody(category, "第二 Second", code: $"B-{Guid.NewGuid():N}")))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        Assert.Equal(0, await CountByNameAsync("第二 Second"));
    }

    [Fact]
    public async Task Parallel_duplicates_with_one_key_create_one_product()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var name = $"并发 Concurrent {Guid.NewGuid():N}";
        var body = CatalogHelpers.ProductBody(category, name, code: $"C-{Guid.NewGuid():N}");
        var key = Guid.NewGuid().ToString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Send(merchandiser.Client, key, body)));

        Assert.Equal(1, await CountByNameAsync(name));
        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.Created or HttpStatusCode.Conflict, $"unexpected {s}"));
        var created = responses.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        Assert.NotEmpty(created);
        var ids = await Task.WhenAll(created.Select(async r => (await r.JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()));
        Assert.Single(ids.Distinct());
        foreach (var conflict in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
        {
            await conflict.ShouldBeProblemAsync(HttpStatusCode.Conflict, "idempotency_in_flight");
        }
    }

    [Fact]
    public async Task Keys_are_scoped_to_the_caller()
    {
        var alice = await factory.NewUserAsync("merchandiser");
        var bob = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var key = Guid.NewGuid().ToString();
        var name = $"各自 Own {Guid.NewGuid():N}";

        await (await Send(alice.Client, key, CatalogHelpers.ProductBody(category, name, code: $"AL-{Guid.NewGuid():N}"))).EnsureStatusAsync(HttpStatusCode.Created);
        var bobs = await Send(bob.Client, key, CatalogHelpers.ProductBody(category, name, code: $"BO-{Guid.NewGuid():N}"));

        await bobs.EnsureStatusAsync(HttpStatusCode.Created);
        Assert.False(bobs.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await CountByNameAsync(name));
    }

    [Fact]
    public async Task A_refused_request_is_remembered_too()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var key = Guid.NewGuid().ToString();
        var body = new { name = "", categoryId = "", brand = "", skus = Array.Empty<object>() };
        await (await Send(merchandiser.Client, key, body)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var again = await Send(merchandiser.Client, key, body);
        await again.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Theory]
    [InlineData(256)]
    [InlineData(-1)]
    public async Task Key_too_long_or_not_visible_ascii_is_400(int length)
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var before = await factory.CountProductsAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/admin/products")
        {
            Content = JsonContent.Create(CatalogHelpers.ProductBody(category)),
        };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", length < 0 ? "键 with spaces" : new string('k', length));
        await (await merchandiser.Client.SendAsync(request)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "idempotency_key_invalid");
        Assert.Equal(before, await factory.CountProductsAsync());
    }

    [Fact]
    public async Task Key_of_255_characters_is_accepted()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        await (await Send(merchandiser.Client, new string('k', 255), CatalogHelpers.ProductBody(category))).EnsureStatusAsync(HttpStatusCode.Created);
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, string key, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/admin/products") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }

    private Task<int> CountByNameAsync(string name) =>
        factory.WithScopeAsync(services => services.GetRequiredService<CatalogDbContext>().Products.CountAsync(p => p.Name == name));
}
