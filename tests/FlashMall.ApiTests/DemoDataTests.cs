using System.Net;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Catalog.Persistence;
using FlashMall.Contracts.Catalog;
using FlashMall.FlashSales.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

public sealed class DemoDataFactory : FlashMallFactory
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Demo:Seed"] = "true";
    }
}

public sealed class DemoDataTests(DemoDataFactory factory) : IClassFixture<DemoDataFactory>
{
    [Fact]
    public async Task Products_list_answers_with_at_least_500_bilingual_products()
    {
        using var client = factory.CreateClient();
        var page = await (await client.GetAsync("/api/products?pageSize=100")).JsonAsync();
        Assert.True(page.GetProperty("total").GetInt32() >= 500);
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(100, items.Count);
        Assert.All(items, item =>
        {
            var name = item.GetProperty("name").GetString()!;
            Assert.Contains(name, c => c is >= '\u4e00' and <= '\u9fff');
            Assert.Contains(name, char.IsAsciiLetter);
            Assert.True(item.GetProperty("price").GetInt64() > 0);
        });
        var sales = items.Select(i => i.GetProperty("sales").GetInt64()).ToList();
        Assert.Equal(sales.OrderDescending(), sales);
    }

    [Fact]
    public async Task Category_tree_has_top_levels_with_children_and_browsing_a_top_level_finds_products()
    {
        using var client = factory.CreateClient();
        var tree = await (await client.GetAsync("/api/categories")).JsonAsync();
        Assert.True(tree.GetArrayLength() >= 5);
        var phones = tree[0];
        Assert.True(phones.GetProperty("children").GetArrayLength() >= 2);
        var page = await (await client.GetAsync($"/api/products?categoryId={phones.GetProperty("id").GetString()}")).JsonAsync();
        Assert.True(page.GetProperty("total").GetInt32() > 10);
    }

    [Fact]
    public async Task Products_have_several_skus_with_attributes_stock_and_brands()
    {
        using var client = factory.CreateClient();
        var id = (await (await client.GetAsync("/api/products?pageSize=1")).JsonAsync()).GetProperty("items")[0].GetProperty("id").GetString();
        var product = await (await client.GetAsync($"/api/products/{id}")).JsonAsync();
        Assert.False(string.IsNullOrEmpty(product.GetProperty("brand").GetString()));
        var skus = product.GetProperty("skus").EnumerateArray().ToList();
        Assert.True(skus.Count >= 2);
        Assert.All(skus, sku =>
        {
            Assert.True(sku.GetProperty("stock").GetInt32() > 0);
            Assert.NotEmpty(sku.GetProperty("attributes").EnumerateObject());
        });
    }

    [Fact]
    public async Task One_live_and_one_upcoming_flash_sale_hold_back_their_stock()
    {
        var now = DateTimeOffset.UtcNow;
        var sales = await factory.WithScopeAsync(services => services.GetRequiredService<FlashSalesDbContext>().Sales.AsNoTracking().ToListAsync());
        var live = Assert.Single(sales, s => s.StartsAt <= now && s.EndsAt > now);
        var upcoming = Assert.Single(sales, s => s.StartsAt > now);
        Assert.Equal(DemoSkus.Live, live.SkuId);
        Assert.Equal(DemoSkus.Upcoming, upcoming.SkuId);
        Assert.True(live.SalePrice < live.OriginalPrice);

        // The sale's units left the SKU's free stock (seeded at 1,000 for the demo sale SKUs).
        var stock = await factory.WithScopeAsync(services =>
            services.GetRequiredService<CatalogDbContext>().Skus.Where(s => s.Id == live.SkuId).Select(s => s.Stock).SingleAsync());
        Assert.Equal(1_000 - live.Quantity, stock);
    }

    [Fact]
    public async Task Demo_ids_are_the_same_on_every_machine()
    {
        using var client = factory.CreateClient();
        var sku = await factory.WithScopeAsync(services => services.GetRequiredService<ICatalogStock>().FindSkuAsync(DemoSkus.Live));
        Assert.NotNull(sku);
        await (await client.GetAsync($"/api/products/{sku.ProductId}")).EnsureStatusAsync(HttpStatusCode.OK);
    }
}
