using System.Data.Common;
using FlashMall.Contracts.Catalog;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Catalog.Persistence;

internal sealed class CatalogStock(CatalogDbContext db, CatalogCache cache, IIdGenerator ids, TimeProvider clock) : ICatalogStock
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
                .Join(db.Products.Where(p => !p.Deleted), s => s.ProductId, p => p.Id, (s, p) => new { s, p })
                .Join(db.Categories, x => x.p.CategoryId, c => c.Id, (x, c) =>
                    new SkuSnapshot(x.s.Id, x.p.Id, x.p.Name, x.s.Code, x.s.Price, x.s.Stock) { CategoryPath = c.Path })
                .ToDictionaryAsync(s => s.SkuId, cancellationToken);

    public async Task<bool> TryHoldBackAsync(Guid skuId, int quantity, DbTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);
        // Join the caller's transaction: the units move with the sale that holds them, or not at all
        // (and on SQLite, a second writer's transaction here would wait on the caller's lock).
        await db.JoinAsync(transaction, cancellationToken);
        var productId = await db.Skus.Where(s => s.Id == skuId).Select(s => (Guid?)s.ProductId).SingleOrDefaultAsync(cancellationToken);
        if (productId is not { } id)
        {
            return false;
        }
        // One conditional update: the store refuses to take more than is free.
        var taken = await db.Skus.Where(s => s.Id == skuId && !s.Removed && s.Stock >= quantity)
            .ExecuteUpdateAsync(s => s.SetProperty(sku => sku.Stock, sku => sku.Stock - quantity), cancellationToken);
        if (taken == 0)
        {
            return false;
        }
        // The stock move and the version bump commit together: a merchandiser's form loaded
        // before this move is stale from the same instant (its PUT with If-Match gets 412).
        await db.Products.Where(p => p.Id == id).ExecuteUpdateAsync(s => s.SetProperty(p => p.Version, p => p.Version + 1), cancellationToken);
        db.AddIntegrationEvent(id.ToString(), new ProductChanged(id, clock.GetUtcNow()), ids, clock);
        await db.SaveChangesAsync(cancellationToken);
        await cache.InvalidateProductNowAndLaterAsync(id, cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<Guid>> TryTakeAsync(IReadOnlyList<StockLine> lines, DbTransaction transaction, CancellationToken cancellationToken = default)
    {
        // Join the caller's transaction: this moves with the order or not at all.
        await db.JoinAsync(transaction, cancellationToken);
        var lacking = new List<Guid>();
        // One order of locks for every checkout: two carts sharing SKUs never deadlock.
        foreach (var line in lines.OrderBy(l => l.SkuId))
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(line.Quantity);
            var quantity = line.Quantity;
            var taken = await db.Skus.Where(s => s.Id == line.SkuId && !s.Removed && s.Stock >= quantity)
                .ExecuteUpdateAsync(s => s.SetProperty(sku => sku.Stock, sku => sku.Stock - quantity), cancellationToken);
            if (taken == 0)
            {
                lacking.Add(line.SkuId);
            }
        }
        if (lacking.Count == 0)
        {
            // A merchandiser's form loaded before these moves is stale now (If-Match gets 412).
            // Products in id order too: every checkout locks rows in one order.
            var skuIds = lines.Select(l => l.SkuId).ToList();
            var products = await db.Skus.Where(s => skuIds.Contains(s.Id)).Select(s => s.ProductId).Distinct().ToListAsync(cancellationToken);
            foreach (var productId in products.Order())
            {
                await db.Products.Where(p => p.Id == productId).ExecuteUpdateAsync(s => s.SetProperty(p => p.Version, p => p.Version + 1), cancellationToken);
            }
        }
        return lacking;
    }
}
