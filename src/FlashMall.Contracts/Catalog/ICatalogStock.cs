using System.Data.Common;

namespace FlashMall.Contracts.Catalog;

/// <summary>Units of one SKU.</summary>
public sealed record StockLine(Guid SkuId, int Quantity);

/// <summary>What another module may know about a SKU, taken at one moment.</summary>
public sealed record SkuSnapshot(Guid SkuId, Guid ProductId, string ProductName, string Code, long Price, int Stock)
{
    /// <summary>The product's category and its ancestors, <c>/root/…/leaf/</c> (ids in <c>N</c> format); a category's subtree is a prefix.</summary>
    public string CategoryPath { get; init; } = "";
}

/// <summary>The Catalog module's answers and stock moves for other modules (they never touch its tables).</summary>
public interface ICatalogStock
{
    Task<SkuSnapshot?> FindSkuAsync(Guid skuId, CancellationToken cancellationToken = default);

    /// <summary>The SKUs among <paramref name="skuIds"/> that exist and are on sale, in one query.</summary>
    Task<IReadOnlyDictionary<Guid, SkuSnapshot>> FindSkusAsync(IReadOnlyCollection<Guid> skuIds, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes <paramref name="quantity"/> units out of the SKU's free stock (e.g. for a flash sale to
    /// hold) inside the caller's open transaction, so they move with what holds them; false, and
    /// nothing changed, when fewer are free.
    /// </summary>
    Task<bool> TryHoldBackAsync(Guid skuId, int quantity, DbTransaction transaction, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes every line's units out of free stock inside the caller's open transaction (on its
    /// connection, so the order and its stock commit or roll back together), each by a
    /// conditional update in a fixed order. The SKUs that lacked units come back; when any did,
    /// some others may already be taken, and the caller must roll back.
    /// </summary>
    Task<IReadOnlyList<Guid>> TryTakeAsync(IReadOnlyList<StockLine> lines, DbTransaction transaction, CancellationToken cancellationToken = default);
}
