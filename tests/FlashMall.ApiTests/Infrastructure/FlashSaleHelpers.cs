using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests.Infrastructure;

public static class FlashSaleHelpers
{
    /// <summary>A new product with one SKU of <paramref name="stock"/> units at <paramref name="price"/> fen, created by <paramref name="merchandiser"/>; the SKU's id.</summary>
    public static async Task<string> SkuAsync(this FlashMallFactory node, HttpClient merchandiser, int stock, long price = 10_000)
    {
        var category = await node.CategoryAsync();
        var product = await merchandiser.CreateProductAsync(new
        {
            name = "秒杀手机 Flash Phone",
            description = "测试 test",
            categoryId = category,
            brand = "Huawei",
            skus = new[] { new { code = $"FS-{Guid.NewGuid():N}", price, stock, attributes = new Dictionary<string, string>() } },
        });
        return product.GetProperty("skus")[0].GetProperty("id").GetString()!;
    }

    /// <summary>A sale that started a second ago and lasts an hour, of a new SKU with <paramref name="stock"/> (default: the quantity) units; its id.</summary>
    public static async Task<string> LiveSaleAsync(
        this FlashMallFactory node, HttpClient merchandiser, int quantity, int perUserLimit, long salePrice = 5_000, long price = 10_000, int? stock = null)
    {
        var sku = await node.SkuAsync(merchandiser, stock ?? quantity, price);
        var created = await merchandiser.PostAsJsonAsync("/api/admin/flash-sales", new
        {
            skuId = sku, salePrice, quantity, perUserLimit,
            startsAt = DateTimeOffset.UtcNow.AddSeconds(-1), endsAt = DateTimeOffset.UtcNow.AddHours(1),
        });
        return (await created.JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;
    }

    /// <summary>A SKU's free stock as the catalog holds it.</summary>
    public static Task<int> StockAsync(this FlashMallFactory node, string sku) => node.WithScopeAsync(s =>
        Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(
            s.GetRequiredService<FlashMall.Catalog.Persistence.CatalogDbContext>().Skus.Where(x => x.Id == Guid.Parse(sku)).Select(x => x.Stock)));
}
