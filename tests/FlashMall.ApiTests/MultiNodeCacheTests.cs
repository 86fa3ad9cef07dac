using System.Net;
using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;

namespace FlashMall.ApiTests;

/// <summary>Two nodes share PostgreSQL and Redis: a change made through one is what the other serves next.</summary>
public sealed class MultiNodeCacheTests(FlashMallFactory nodeA) : IClassFixture<FlashMallFactory>
{
    [RedisFact]
    public async Task Price_change_on_one_node_is_served_by_the_other()
    {
        await using var nodeB = new SecondNodeFactory(nodeA);
        await ((IAsyncLifetime)nodeB).InitializeAsync();

        var merchandiser = await nodeA.NewUserAsync("merchandiser");
        var category = await nodeA.CategoryAsync();
        var code = $"MN-{Guid.NewGuid():N}";
        var id = (await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(category, price: 50_000, code: code))).GetProperty("id").GetString();

        using var readerA = nodeA.CreateClient();
        using var readerB = nodeB.CreateClient();
        // Both nodes now hold the product in their L1.
        Assert.Equal(50_000, (await (await readerA.GetAsync($"/api/products/{id}")).JsonAsync()).GetProperty("price").GetInt64());
        Assert.Equal(50_000, (await (await readerB.GetAsync($"/api/products/{id}")).JsonAsync()).GetProperty("price").GetInt64());

        using var merchandiserOnB = nodeB.ClientWithToken(merchandiser.Tokens.AccessToken);
        await (await merchandiserOnB.PutAsJsonAsync($"/api/admin/products/{id}", new
        {
            name = "跨节点 Cross-node", categoryId = category, brand = "Huawei", skus = new[] { new { code, price = 42_000L, stock = 3 } },
        })).EnsureStatusAsync(HttpStatusCode.OK);

        // The invalidation crosses Redis pub/sub asynchronously: allow it a moment, far less than the L1 lifetime (30 s).
        var deadline = DateTime.UtcNow.AddSeconds(2);
        long price;
        do
        {
            price = (await (await readerA.GetAsync($"/api/products/{id}")).JsonAsync()).GetProperty("price").GetInt64();
        }
        while (price != 42_000 && DateTime.UtcNow < deadline && await Delay());
        Assert.Equal(42_000, price);
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(20);
        return true;
    }
}
