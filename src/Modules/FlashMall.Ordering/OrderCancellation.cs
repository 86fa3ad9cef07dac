using FlashMall.Contracts.Ordering;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Messaging;
using FlashMall.Ordering.Domain;
using FlashMall.Ordering.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Ordering;

internal enum CancelOutcome
{
    Cancelled,
    NotFound,
    NotCancellable,
}

/// <summary>
/// Cancels an unpaid order: one conditional update (only <c>pending_payment</c> becomes
/// <c>cancelled</c>, so two cancels, or a cancel racing a payment, change it once) and the
/// <see cref="OrderCancelled"/> event in the same transaction, from which FlashSales (a sale's
/// units) or Catalog (a regular order's stock) gives the units back exactly once.
/// </summary>
internal sealed class OrderCancellation(OrderingDbContext db, IIdGenerator ids, TimeProvider clock, OrderingTelemetry telemetry)
{
    public const string ByBuyer = "buyer_cancelled";
    public const string PaymentTimeout = "payment_timeout";

    public async Task<CancelOutcome> CancelAsync(Guid orderId, Guid? buyer, string reason, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var changed = await db.Orders
            .Where(o => o.Id == orderId && o.Status == OrderStatus.PendingPayment && (buyer == null || o.UserId == buyer))
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, OrderStatus.Cancelled), cancellationToken);
        if (changed == 0)
        {
            var exists = await db.Orders.AnyAsync(o => o.Id == orderId && (buyer == null || o.UserId == buyer), cancellationToken);
            return exists ? CancelOutcome.NotCancellable : CancelOutcome.NotFound;
        }
        var order = await db.Orders.AsNoTracking().SingleAsync(o => o.Id == orderId, cancellationToken);
        db.AddIntegrationEvent(orderId.ToString(), new OrderCancelled(orderId, order.UserId, order.FlashSaleId, order.ReservationId, reason, now,
            OrderPayments.Lines(order)), ids, clock);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        telemetry.Cancelled(reason);
        return CancelOutcome.Cancelled;
    }
}
