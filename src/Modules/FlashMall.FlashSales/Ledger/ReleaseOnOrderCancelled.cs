using FlashMall.Contracts.Ordering;
using FlashMall.FlashSales.Domain;
using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Messaging;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.FlashSales.Ledger;

/// <summary>
/// A cancelled flash-sale order gives its units back, exactly once: the reservation turns
/// <c>released</c> only from <c>reserved</c>/<c>ordered</c> (a conditional update), the sale's
/// <c>reserved</c> column drops by its units in the same transaction, and the ledger gets the
/// units and the buyer's share back (<see cref="IStockLedger.ReleaseAsync"/>: after the commit
/// in memory, before it in Redis, idempotently). A redelivered event finds the
/// reservation released already and changes nothing.
/// </summary>
internal sealed class ReleaseOnOrderCancelled(FlashSalesDbContext db, IStockLedger ledger) : IIntegrationEventConsumer<OrderCancelled>
{
    public const string Consumer = "flash-sales.release-on-order-cancelled";

    public Task ConsumeAsync(OrderCancelled cancelled, CancellationToken cancellationToken) =>
        ReleaseAsync(db, ledger, cancelled.ReservationId, cancelled.Reason, cancellationToken);

    /// <summary>Gives a flash-sale order's units back to its sale, once.</summary>
    /// <param name="db">The module's context, in the consumer's transaction.</param>
    /// <param name="ledger">The sale's ledger.</param>
    /// <param name="reservationId">The order's reservation; null for a regular order (nothing to do).</param>
    /// <param name="reason">Recorded on the released reservation.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    internal static async Task ReleaseAsync(FlashSalesDbContext db, IStockLedger ledger, Guid? reservationId, string reason, CancellationToken cancellationToken)
    {
        if (reservationId is not { } id)
        {
            return;
        }
        var reservation = await db.Reservations.AsNoTracking()
            .Where(r => r.Id == id)
            .Select(r => new { r.SaleId, r.UserId, r.Quantity })
            .SingleOrDefaultAsync(cancellationToken);
        if (reservation is null)
        {
            return;
        }
        var released = await db.Reservations
            .Where(r => r.Id == id && (r.Status == ReservationStatus.Reserved || r.Status == ReservationStatus.Ordered))
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, ReservationStatus.Released)
                .SetProperty(r => r.ReleasedReason, reason), cancellationToken);
        if (released == 0)
        {
            return;
        }
        var quantity = reservation.Quantity;
        await db.Sales.Where(s => s.Id == reservation.SaleId)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Reserved, x => x.Reserved - quantity), cancellationToken);
        await ledger.ReleaseAsync(db, new ReleasedUnits(reservation.SaleId, reservation.UserId, id, quantity), cancellationToken);
    }
}

/// <summary>A refunded flash-sale order's units go back to its sale, exactly as a cancelled one's (reason <c>refunded</c>).</summary>
internal sealed class ReleaseOnOrderRefunded(FlashSalesDbContext db, IStockLedger ledger) : IIntegrationEventConsumer<OrderRefunded>
{
    public const string Consumer = "flash-sales.release-on-order-refunded";
    public const string Reason = "refunded";

    public Task ConsumeAsync(OrderRefunded refunded, CancellationToken cancellationToken) =>
        ReleaseOnOrderCancelled.ReleaseAsync(db, ledger, refunded.ReservationId, Reason, cancellationToken);
}
