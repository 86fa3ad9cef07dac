namespace FlashMall.Contracts.Catalog;

/// <summary>
/// A product as search indexes it, read at one moment. <see cref="CategoryPath"/> lists the
/// category ids from the root down to <see cref="CategoryId"/>; <see cref="Price"/> is the lowest
/// price of its SKUs on sale, <see cref="Stock"/> their free stock summed; <see cref="OnSale"/>
/// says a buyer can order it now (some SKU on sale has free stock).
/// </summary>
public sealed record SearchableProduct(
    Guid Id, string Name, string Description, string Brand, Guid CategoryId, IReadOnlyList<Guid> CategoryPath,
    IReadOnlyList<string> CategoryNames, IReadOnlyList<string> Attributes, long Price, long Sales, int Stock, string? ImageUrl,
    bool OnSale, DateTimeOffset CreatedAt);

/// <summary>The Catalog module's products for the search index (Search never reads Catalog's tables).</summary>
public interface ICatalogSearchSource
{
    /// <summary>Up to <paramref name="limit"/> products that are not deleted, in id order, after <paramref name="afterId"/> (null: from the first).</summary>
    Task<IReadOnlyList<SearchableProduct>> ReadPageAsync(Guid? afterId, int limit, CancellationToken cancellationToken = default);

    /// <summary>Those of <paramref name="productIds"/> that exist and are not deleted.</summary>
    Task<IReadOnlyList<SearchableProduct>> FindAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken = default);

    /// <summary>
    /// The gross margin of those of <paramref name="productIds"/> that have one, in fen: the price
    /// minus the cost of the product's cheapest SKU on sale (the price search shows; the lowest
    /// code on a tie), negative when it sells below cost. Absent when that SKU records no cost.
    /// </summary>
    Task<IReadOnlyDictionary<Guid, long>> MarginsAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken = default);
}
