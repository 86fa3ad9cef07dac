namespace FlashMall.Contracts.Catalog;

/// <summary>A product's (leaf) category, as reports group by it.</summary>
public sealed record ProductCategory(Guid CategoryId, string CategoryName);

/// <summary>What another module may ask about products (they never touch Catalog's tables).</summary>
public interface ICatalogProducts
{
    /// <summary>The ids among <paramref name="productIds"/> of products that exist and are not deleted, in one query.</summary>
    Task<IReadOnlySet<Guid>> ExistingAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken = default);

    /// <summary>The category of each of <paramref name="productIds"/> that exists (deleted products included), in one query.</summary>
    Task<IReadOnlyDictionary<Guid, ProductCategory>> CategoriesAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken = default);
}
