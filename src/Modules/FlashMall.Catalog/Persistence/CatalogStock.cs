using FlashMall.Contracts.Catalog;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Catalog.Persistence;

internal sealed class CatalogStock(CatalogDbContext db, CatalogCache cache) : ICatalogStock
{
    public async Task<SkuSnapshot?> FindSkuAsync(Guid skuId, CancellationToken cancellationToken = default) =>
        await db.Skus.AsNoTracking()
            .Where(s => s.Id == skuId && !s.Removed)
            .Join(db.Products.Where(p => !p.Deleted), s => s.ProductId, p => p.Id, (s, p) => new SkuSnapshot(s.Id, p.Id, p.Name, s.Code, s.Price, s.Stock))
            .SingleOrDefaultAsync(cancellationToken);

    public async Task<IReadOnlyDictionary<Guid, SkuSnapshot>> FindSkusAsync(IReadOnlyCollection<Guid> skuIds, CancellationToken cancellationToken = default) =>
        skuIds.Count == 0
            ? new Dictionary<Guid, SkuSnapshot>()
            : await db.Skus.AsNoTracking()
                .Where(s => skuIds.Contains(s.Id) && !s.Removed)
                .Join(db.Products.Where(p => !p.Deleted), s => s.ProductId, p => p.Id, (s, p) => new SkuSnapshot(s.Id, p.Id, p.Name, s.Code, s.Price, s.Stock))
                .ToDictionaryAsync(s => s.SkuId, cancellationToken);

    public async Task<bool> TryHoldBackAsync(Guid skuId, int quantity, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);
        var productId = await db.Skus.Where(s => s.Id == skuId).Select(s => (Guid?)s.ProductId).SingleOrDefaultAsync(cancellationToken);
        if (productId is not { } id)
        {
            return false;
        }
        // The stock move and the version bump commit together: a merchandiser's form loaded
        // before this move is stale from the same instant (its PUT with If-Match gets 412).
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        // One conditional update: the store refuses to take more than is free.
        var taken = await db.Skus.Where(s => s.Id == skuId && !s.Removed && s.Stock >= quantity)
            .ExecuteUpdateAsync(s => s.SetProperty(sku => sku.Stock, sku => sku.Stock - quantity), cancellationToken);
        if (taken == 0)
        {
            return false;
        }
        await db.Products.Where(p => p.Id == id).ExecuteUpdateAsync(s => s.SetProperty(p => p.Version, p => p.Version + 1), cancellationToken);
        await cache.InvalidateProductAsync(db, id, cancellationToken);
        if (transaction is not null)
        {
            await transaction.CommitAsync(CancellationToken.None);
        }
        return true;
    }
}
