namespace FlashMall.Contracts.Catalog;

/// <summary>What another module may ask about products (they never touch Catalog's tables).</summary>
public interface ICatalogProducts
{
    /// <summary>The ids among <paramref name="productIds"/> of products that exist and are not deleted, in one query.</summary>
    Task<IReadOnlySet<Guid>> ExistingAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken = default);
}
