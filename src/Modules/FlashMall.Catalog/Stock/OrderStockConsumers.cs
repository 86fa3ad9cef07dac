using FlashMall.Catalog.Persistence;
using FlashMall.Contracts.Catalog;
using FlashMall.Contracts.Ordering;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Messaging;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Catalog.Stock;

/// <summary>
/// A cancelled regular order's units go back to free stock, once (the consumer's inbox records
/// the event in the same transaction). Flash-sale orders are FlashSales' business: their units
/// return to the sale, not here.
/// </summary>
internal sealed class RestockOnOrderCancelled(CatalogDbContext db, CatalogCache cache, IIdGenerator ids, TimeProvider clock) : IIntegrationEventConsumer<OrderCancelled>
{
    public const string Consumer = "catalog.restock-on-order-cancelled";

    public Task ConsumeAsync(OrderCancelled cancelled, CancellationToken cancellationToken) =>
        cancelled.FlashSaleId is null && cancelled.Lines is { Count: > 0 } lines ? RestockAsync(db, cache, ids, clock, lines, cancellationToken) : Task.CompletedTask;

    /// <summary>Puts a regular order's lines back into free stock, refreshes the products' cached pages and tells search.</summary>
    /// <param name="db">The module's context, in the consumer's transaction.</param>
    /// <param name="cache">The catalog's cache.</param>
    /// <param name="ids">Ids for the outbox messages.</param>
    /// <param name="clock">The time of the change.</param>
    /// <param name="lines">The order's lines.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    internal static async Task RestockAsync(
        CatalogDbContext db, CatalogCache cache, IIdGenerator ids, TimeProvider clock, IReadOnlyList<OrderedLine> lines, CancellationToken cancellationToken)
    {
        foreach (var line in lines.OrderBy(l => l.SkuId))
        {
            var quantity = line.Quantity;
            await db.Skus.Where(s => s.Id == line.SkuId).ExecuteUpdateAsync(s => s.SetProperty(sku => sku.Stock, sku => sku.Stock + quantity), cancellationToken);
        }
        foreach (var productId in lines.Select(l => l.ProductId).Distinct())
        {
            await db.Products.Where(p => p.Id == productId).ExecuteUpdateAsync(s => s.SetProperty(p => p.Version, p => p.Version + 1), cancellationToken);
            await cache.InvalidateProductAsync(db, productId, cancellationToken);
            db.AddIntegrationEvent(productId.ToString(), new ProductChanged(productId, clock.GetUtcNow()), ids, clock);
        }
    }
}

/// <summary>A placed order took stock in its own transaction: the products' cached pages and the search index show the new stock.</summary>
internal sealed class RefreshOnOrderPlaced(CatalogDbContext db, CatalogCache cache, IIdGenerator ids, TimeProvider clock) : IIntegrationEventConsumer<OrderPlaced>
{
    public const string Consumer = "catalog.refresh-on-order-placed";

    public async Task ConsumeAsync(OrderPlaced placed, CancellationToken cancellationToken)
    {
        foreach (var productId in placed.Lines.Select(l => l.ProductId).Distinct())
        {
            await cache.InvalidateProductAsync(db, productId, cancellationToken);
            db.AddIntegrationEvent(productId.ToString(), new ProductChanged(productId, clock.GetUtcNow()), ids, clock);
        }
    }
}

/// <summary>A refunded regular order's units go back to free stock, once, as a cancelled one's do (a flash-sale order's go back to its sale).</summary>
internal sealed class RestockOnOrderRefunded(CatalogDbContext db, CatalogCache cache, IIdGenerator ids, TimeProvider clock) : IIntegrationEventConsumer<OrderRefunded>
{
    public const string Consumer = "catalog.restock-on-order-refunded";

    public Task ConsumeAsync(OrderRefunded refunded, CancellationToken cancellationToken) =>
        refunded.FlashSaleId is null && refunded.Lines.Count > 0
            ? RestockOnOrderCancelled.RestockAsync(db, cache, ids, clock, refunded.Lines, cancellationToken)
            : Task.CompletedTask;
}

/// <summary>
/// A product's <c>sales</c> counts the units of its paid orders (regular and flash-sale), once per
/// event (the consumer's inbox), and gives them back when the order is refunded; search hears of
/// the change (it sorts by sales) through the outbox, in the same transaction.
/// </summary>
internal sealed class CountSalesOnOrderPaid(CatalogDbContext db, CatalogCache cache, IIdGenerator ids, TimeProvider clock) : IIntegrationEventConsumer<OrderPaid>, IIntegrationEventConsumer<OrderRefunded>
{
    public const string PaidConsumer = "catalog.count-sales-on-order-paid";
    public const string RefundedConsumer = "catalog.count-sales-on-order-refunded";

    public Task ConsumeAsync(OrderPaid paid, CancellationToken cancellationToken) => AddAsync(paid.Lines, +1, cancellationToken);

    public Task ConsumeAsync(OrderRefunded refunded, CancellationToken cancellationToken) => AddAsync(refunded.Lines, -1, cancellationToken);

    private async Task AddAsync(IReadOnlyList<OrderedLine> lines, int sign, CancellationToken cancellationToken)
    {
        foreach (var product in lines.GroupBy(l => l.ProductId).OrderBy(g => g.Key))
        {
            long units = sign * product.Sum(l => (long)l.Quantity);
            await db.Products.Where(p => p.Id == product.Key)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.Sales, p => p.Sales + units < 0 ? 0 : p.Sales + units), cancellationToken);
            await cache.InvalidateProductAsync(db, product.Key, cancellationToken);
            db.AddIntegrationEvent(product.Key.ToString(), new ProductChanged(product.Key, clock.GetUtcNow()), ids, clock);
        }
    }
}
