namespace FlashMall.Contracts.Catalog;

/// <summary>The demo catalog's SKUs that the demo flash sales sell (stable name-based ids).</summary>
public static class DemoSkus
{
    public static readonly Guid Live = Guid.Parse("c8b1b6f3-ad42-89fc-bc18-d0e698ea64be");
    public static readonly Guid Upcoming = Guid.Parse("8b249c3e-8f99-8535-b533-5c64fb11c644");
}
