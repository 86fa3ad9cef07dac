using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.FlashSales.Ledger;

/// <summary>
/// Loads every sale that is live or starts within <see cref="Ahead"/> into the ledger (and the
/// directory of sale terms), so the first buyer at 20:00:00 does not pay for it; and drops the
/// counters of sales ended more than <see cref="KeepAfterEnd"/> ago, so memory does not grow
/// with every sale ever held.
/// </summary>
internal sealed class WarmUpcomingSalesJob(FlashSalesDbContext db, SaleDirectory directory, IStockLedger ledger, TimeProvider clock) : IScheduledJob
{
    public const string Name = "flash-sales.warm-upcoming";
    public static readonly TimeSpan Ahead = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan KeepAfterEnd = TimeSpan.FromHours(1);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var until = now + Ahead;
        var sales = await db.Sales.AsNoTracking()
            .Where(s => s.StartsAt <= until && s.EndsAt > now)
            .Select(s => s.Id)
            .ToListAsync(cancellationToken);
        foreach (var saleId in sales)
        {
            if (await directory.FindAsync(saleId, cancellationToken) is { } terms)
            {
                await ledger.WarmAsync(terms, cancellationToken);
            }
        }
        foreach (var saleId in ledger.LoadedSales)
        {
            if (await directory.FindAsync(saleId, cancellationToken) is not { } terms || terms.EndsAt < now - KeepAfterEnd)
            {
                ledger.Forget(saleId);
            }
        }
    }
}
