using FlashMall.Catalog.Demo;
using FlashMall.Contracts.Catalog;

namespace FlashMall.UnitTests;

public sealed class DemoDataTests
{
    [Fact]
    public void Contract_demo_sku_ids_are_the_ones_the_demo_catalog_creates()
    {
        Assert.Equal(DemoCatalog.Id("sku", 0, 0), DemoSkus.Live);
        Assert.Equal(DemoCatalog.Id("sku", 1, 0), DemoSkus.Upcoming);
    }

    [Fact]
    public void Demo_ids_are_stable_and_distinct()
    {
        Assert.Equal(DemoCatalog.Id("product", 7, -1), DemoCatalog.Id("product", 7, -1));
        Assert.NotEqual(DemoCatalog.Id("product", 7, -1), DemoCatalog.Id("product", 8, -1));
        Assert.NotEqual(DemoCatalog.Id("product", 7, -1), DemoCatalog.Id("sku", 7, -1));
    }
}
