using FlashMall.Catalog.Persistence;
using FlashMall.Contracts.Ordering;
using FlashMall.Kernel.Messaging;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Catalog.Stock;

/// <summary>
/// A cancelled regular order's units go back to free stock, once (the consumer's inbox records
/// the event in the same transaction). Flash-sale orders are FlashSales' business: their units
/// return to the sale, not here.
/// </summary>
internal sealed class RestockOnOrderCancelled(CatalogDbContext db, CatalogCache cache) : IIntegrationEventConsumer<OrderCancelled>
{
    public const string Consumer = "catalog.restock-on-order-cancelled";

    public async Task ConsumeAsync(OrderCancelled cancelled, CancellationToken cancellationToken)
    {
        if (cancelled.FlashSaleId is not null || cancelled.Lines is not { Count: > 0 } lines)
        {
            return;
        }
        foreach (var line in lines.OrderBy(l => l.SkuId))
        {
            var quantity = line.Quantity;
            await db.Skus.Where(s => s.Id == line.SkuId).ExecuteUpdateAsync(s => s.SetProperty(sku => sku.Stock, sku => sku.Stock + quantity), cancellationToken);
        }
        foreach (var productId in lines.Select(l => l.ProductId).Distinct())
        {
            await db.Products.Where(p => p.Id == productId).ExecuteUpdateAsync(s => s.SetProperty(p => p.Version, p => p.Version + 1), cancellationToken);
            await cache.InvalidateProductAsync(db, productId, cancellationToken);
        }
    }
}

/// <summary>A placed order took stock in its own transaction: the products' cached pages show the new stock.</summary>
internal sealed class RefreshOnOrderPlaced(CatalogDbContext db, CatalogCache cache) : IIntegrationEventConsumer<OrderPlaced>
{
    public const string Consumer = "catalog.refresh-on-order-placed";

    public async Task ConsumeAsync(OrderPlaced placed, CancellationToken cancellationToken)
    {
        foreach (var productId in placed.Lines.Select(l => l.ProductId).Distinct())
        {
            await cache.InvalidateProductAsync(db, productId, cancellationToken);
        }
    }
}
