using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlashMall.Catalog.Domain;
using FlashMall.Catalog.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests.Infrastructure;

public static class CatalogHelpers
{
    /// <summary>A leaf category created straight in the store (categories have no public write API yet).</summary>
    public static async Task<string> CategoryAsync(this FlashMallFactory factory, string name = "测试 Test")
    {
        return await factory.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<CatalogDbContext>();
            var category = Category.Create(Guid.CreateVersion7(), null, name, 0);
            db.Categories.Add(category);
            await db.SaveChangesAsync();
            return category.Id.ToString();
        });
    }

    public static object ProductBody(string categoryId, string name = "华为手机 Mate Test", long price = 99_900, string? code = null) => new
    {
        name,
        description = "测试商品 test product",
        categoryId,
        brand = "Huawei",
        skus = new[]
        {
            new { code = code ?? $"T-{Guid.NewGuid():N}", price, stock = 10, attributes = new Dictionary<string, string> { ["颜色 Color"] = "黑色 Black" } },
        },
    };

    public static async Task<JsonElement> CreateProductAsync(this HttpClient merchandiser, object body)
    {
        var response = await merchandiser.PostAsJsonAsync("/api/admin/products", body);
        return await response.JsonAsync(HttpStatusCode.Created);
    }

    public static Task<int> CountProductsAsync(this FlashMallFactory factory) =>
        factory.WithScopeAsync(services => services.GetRequiredService<CatalogDbContext>().Products.CountAsync());
}
