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

    public async Task<bool> TryHoldBackAsync(Guid skuId, int quantity, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);
        // One conditional update: the store refuses to take more than is free.
        var productId = await db.Skus.Where(s => s.Id == skuId).Select(s => (Guid?)s.ProductId).SingleOrDefaultAsync(cancellationToken);
        var taken = await db.Skus.Where(s => s.Id == skuId && !s.Removed && s.Stock >= quantity)
            .ExecuteUpdateAsync(s => s.SetProperty(sku => sku.Stock, sku => sku.Stock - quantity), cancellationToken);
        if (taken == 1 && productId is { } id)
        {
            // A merchandiser's form loaded before this move is now stale: its PUT with If-Match gets 412.
            await db.Products.Where(p => p.Id == id).ExecuteUpdateAsync(s => s.SetProperty(p => p.Version, p => p.Version + 1), cancellationToken);
            await cache.InvalidateProductAsync(db, id, cancellationToken);
        }
        return taken == 1;
    }
}
