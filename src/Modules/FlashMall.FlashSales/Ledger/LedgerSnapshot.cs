using FlashMall.FlashSales.Domain;
using FlashMall.FlashSales.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.FlashSales.Ledger;

/// <summary>One reservation as a ledger rebuild needs it.</summary>
internal readonly record struct HeldReservation(Guid Id, Guid UserId, int Quantity, bool Released);

/// <summary>
/// What the database holds of a sale, read in one snapshot (the units and the rows that hold
/// them agree): both ledgers rebuild their counters from it.
/// </summary>
internal sealed record LedgerSnapshot(int Free, IReadOnlyList<HeldReservation> Reservations)
{
    public static async Task<LedgerSnapshot> ReadAsync(FlashSalesDbContext db, SaleTerms sale, bool includeReleased, CancellationToken cancellationToken)
    {
        await using var snapshot = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken);
        var reserved = await db.Sales.Where(s => s.Id == sale.SaleId).Select(s => s.Reserved).SingleAsync(cancellationToken);
        var rows = db.Reservations.AsNoTracking().Where(r => r.SaleId == sale.SaleId);
        if (!includeReleased)
        {
            rows = rows.Where(r => r.Status != ReservationStatus.Released);
        }
        var held = await rows
            .Select(r => new HeldReservation(r.Id, r.UserId, r.Quantity, r.Status == ReservationStatus.Released))
            .ToListAsync(cancellationToken);
        return new LedgerSnapshot(sale.Quantity - reserved, held);
    }
}
