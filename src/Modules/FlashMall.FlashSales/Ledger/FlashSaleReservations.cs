using FlashMall.Contracts.FlashSales;
using FlashMall.FlashSales.Domain;
using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.FlashSales.Ledger;

/// <summary>The reservations the order worker has still to turn into orders, and its report back; the business archive's daily read.</summary>
internal sealed class FlashSaleReservations(FlashSalesDbContext db) : IFlashSaleReservations, IFlashSaleReservationLog
{
    private static readonly string[] Statuses = [ReservationStatus.Reserved, ReservationStatus.Ordered, ReservationStatus.Released];

    public async Task<IReadOnlyList<ReservationRecord>> ReservedBetweenAsync(
        DateTimeOffset start, DateTimeOffset until, int skip, int max, CancellationToken cancellationToken = default) =>
        // Every status listed: the (status, created_at) index serves the day's range.
        await db.Reservations.AsNoTracking()
            .Where(r => Statuses.Contains(r.Status) && r.CreatedAt >= start && r.CreatedAt < until)
            .OrderBy(r => r.CreatedAt).ThenBy(r => r.Id)
            .Skip(skip).Take(max)
            .Join(db.Sales, r => r.SaleId, s => s.Id, (r, s) => new ReservationRecord(
                r.Id, r.SaleId, r.UserId, s.SkuId, s.ProductId, s.SalePrice, r.Quantity, r.Status, r.OrderId, r.ReleasedReason, r.CreatedAt))
            .ToListAsync(cancellationToken);

    public async Task<IReadOnlyList<ReservationToOrder>> ToOrderAsync(int max, CancellationToken cancellationToken = default) =>
        await db.Reservations.AsNoTracking()
            .Where(r => r.Status == ReservationStatus.Reserved)
            .OrderBy(r => r.CreatedAt).ThenBy(r => r.Id)
            .Take(max)
            .Join(db.Sales, r => r.SaleId, s => s.Id, (r, s) => new ReservationToOrder(
                r.Id, r.SaleId, r.UserId, s.SkuId, s.ProductId, s.Name, s.SalePrice, r.Quantity, r.CreatedAt, r.TraceParent))
            .ToListAsync(cancellationToken);

    public async Task MarkOrderedAsync(IReadOnlyCollection<Guid> reservationIds, CancellationToken cancellationToken = default)
    {
        using var turn = await SqliteWriteGate.EnterAsync(db, cancellationToken);
        await db.Reservations
            .Where(r => reservationIds.Contains(r.Id) && r.Status == ReservationStatus.Reserved)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, ReservationStatus.Ordered).SetProperty(r => r.OrderId, r => (Guid?)r.Id), cancellationToken);
    }
}
