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

    public async Task ConsumeAsync(OrderCancelled cancelled, CancellationToken cancellationToken)
    {
        if (cancelled.ReservationId is not { } reservationId)
        {
            return;
        }
        var reservation = await db.Reservations.AsNoTracking()
            .Where(r => r.Id == reservationId)
            .Select(r => new { r.SaleId, r.UserId, r.Quantity })
            .SingleOrDefaultAsync(cancellationToken);
        if (reservation is null)
        {
            return;
        }
        var released = await db.Reservations
            .Where(r => r.Id == reservationId && (r.Status == ReservationStatus.Reserved || r.Status == ReservationStatus.Ordered))
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, ReservationStatus.Released)
                .SetProperty(r => r.ReleasedReason, cancelled.Reason), cancellationToken);
        if (released == 0)
        {
            return;
        }
        var quantity = reservation.Quantity;
        await db.Sales.Where(s => s.Id == reservation.SaleId)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Reserved, x => x.Reserved - quantity), cancellationToken);
        await ledger.ReleaseAsync(db, new ReleasedUnits(reservation.SaleId, reservation.UserId, reservationId, quantity), cancellationToken);
    }
}
