namespace FlashMall.Catalog.Domain;

internal sealed class Product
{
    private readonly List<Sku> _skus = [];

    private Product()
    {
    }

    public Guid Id { get; private set; }
    public string Name { get; private set; } = "";
    public string Description { get; private set; } = "";
    public Guid CategoryId { get; private set; }
    public string Brand { get; private set; } = "";
    public List<string> Images { get; private set; } = [];
    /// <summary>The lowest SKU price, kept with the product so lists need no join.</summary>
    public long MinPrice { get; private set; }
    public long Sales { get; private set; }
    public bool Deleted { get; private set; }
    /// <summary>Bumped by every change (and every stock hold-back): the concurrency token behind the admin ETag.</summary>
    public int Version { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset UpdatedAt { get; private set; }
    public IReadOnlyList<Sku> Skus => _skus;

    /// <summary>The SKUs on sale; removed ones stay stored because sales and orders refer to them.</summary>
    public IEnumerable<Sku> ActiveSkus => _skus.Where(s => !s.Removed);

    public string? ImageUrl => Images.Count > 0 ? Images[0] : null;

    public static Product Create(Guid id, ProductDraft draft, Func<Guid> newId, DateTimeOffset now, long sales = 0)
    {
        var product = new Product { Id = id, CreatedAt = now, Sales = sales };
        product.Apply(draft, newId, now);
        return product;
    }

    /// <summary>
    /// Replaces the product's fields and its SKU set: SKUs are matched by code, so an existing
    /// code keeps its id; codes not in the draft are marked removed (never deleted: a sale or an
    /// order may refer to them), and a removed code given again comes back with its id.
    /// </summary>
    public void Apply(ProductDraft draft, Func<Guid> newId, DateTimeOffset now)
    {
        Name = draft.Name;
        Description = draft.Description;
        CategoryId = draft.CategoryId;
        Brand = draft.Brand;
        Images = [.. draft.Images];
        foreach (var sku in _skus.Where(sku => !draft.Skus.Any(d => d.Code == sku.Code)))
        {
            sku.Remove();
        }
        foreach (var skuDraft in draft.Skus)
        {
            var existing = _skus.Find(s => s.Code == skuDraft.Code);
            if (existing is null)
            {
                _skus.Add(Sku.Create(newId(), Id, skuDraft));
            }
            else
            {
                existing.Apply(skuDraft);
            }
        }
        MinPrice = ActiveSkus.Min(s => s.Price);
        UpdatedAt = now;
        Version++;
    }

}

internal sealed class Sku
{
    private Sku()
    {
    }

    public Guid Id { get; private set; }
    public Guid ProductId { get; private set; }
    public string Code { get; private set; } = "";
    public long Price { get; private set; }
    /// <summary>Free stock for regular sale (a flash sale's units are held back out of it).</summary>
    public int Stock { get; private set; }
    public Dictionary<string, string> Attributes { get; private set; } = [];
    /// <summary>What a unit costs the shop, in fen (null: not recorded); merchandisers' margin only, never shown to buyers.</summary>
    public long? Cost { get; private set; }
    public bool Removed { get; private set; }

    public static Sku Create(Guid id, Guid productId, SkuDraft draft)
    {
        var sku = new Sku { Id = id, ProductId = productId, Code = draft.Code };
        sku.Apply(draft);
        return sku;
    }

    public void Remove() => Removed = true;

    public void Apply(SkuDraft draft)
    {
        Removed = false;
        Price = draft.Price;
        Stock = draft.Stock;
        Cost = draft.Cost;
        Attributes = new Dictionary<string, string>(draft.Attributes, StringComparer.Ordinal);
    }
}

/// <summary>A validated description of a product, from a merchandiser or the demo seed.</summary>
internal sealed record ProductDraft(string Name, string Description, Guid CategoryId, string Brand, IReadOnlyList<string> Images, IReadOnlyList<SkuDraft> Skus);

internal sealed record SkuDraft(string Code, long Price, int Stock, IReadOnlyDictionary<string, string> Attributes, long? Cost = null);
