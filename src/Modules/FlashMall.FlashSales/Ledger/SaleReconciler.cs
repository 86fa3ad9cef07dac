using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FlashMall.FlashSales.Domain;
using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Scheduling;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlashMall.FlashSales.Ledger;

internal sealed record Reconciliation(
    string SaleId, int Quantity, int Ordered, int Reserved, int Remaining, int InFlight, int HeldByDatabase, bool Balanced,
    IReadOnlyList<string> Differences, DateTimeOffset CheckedAt);

/// <summary>
/// Checks that every unit of a sale is accounted for exactly once: quantity = ordered +
/// reserved (not yet ordered) + remaining in the ledger, and the sale's <c>reserved</c> column =
/// ordered + reserved. A reservation in flight (taken from the counters, not yet committed)
/// makes a passing difference, so a difference is looked at again before it is reported.
/// </summary>
internal sealed partial class SaleReconciler(
    IServiceScopeFactory scopes, IStockLedger ledger, SaleDirectory directory, TimeProvider clock, ILogger<SaleReconciler> logger, IMeterFactory meters)
{
    public const string MeterName = "FlashMall.FlashSales";

    private readonly Counter<long> _mismatches = meters.Create(MeterName).CreateCounter<long>(
        "flashmall.flash_sales.reconciliation.mismatches", description: "Reconciliations of a sale whose units did not add up.");

    /// <summary>Sales whose latest reconciliation on this node did not add up (oversold or lost units): the alert's signal.</summary>
    private readonly ConcurrentDictionary<Guid, bool> _unbalanced = UnbalancedGauge(meters);

    private static ConcurrentDictionary<Guid, bool> UnbalancedGauge(IMeterFactory meters)
    {
        var unbalanced = new ConcurrentDictionary<Guid, bool>();
        meters.Create(MeterName).CreateObservableGauge("flashmall.flash_sales.reconciliation.unbalanced", () => unbalanced.Count, unit: "{sale}",
            description: "Sales whose latest reconciliation did not add up (0 when every unit is accounted for).");
        return unbalanced;
    }

    public async Task<Reconciliation?> ReconcileAsync(Guid saleId, CancellationToken cancellationToken)
    {
        Reconciliation? result = null;
        for (var look = 0; look < 3; look++)
        {
            result = await LookAsync(saleId, cancellationToken);
            if (result is null || result.Balanced)
            {
                _unbalanced.TryRemove(saleId, out _);
                return result;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), clock, cancellationToken);
        }
        _mismatches.Add(1);
        _unbalanced[saleId] = true;
        LogMismatch(logger, saleId, result!.Quantity, result.Ordered, result.Reserved, result.Remaining, result.HeldByDatabase, string.Join("; ", result.Differences));
        return result;
    }

    private async Task<Reconciliation?> LookAsync(Guid saleId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FlashSalesDbContext>();
        var sale = await db.Sales.AsNoTracking().Where(s => s.Id == saleId).Select(s => new { s.Quantity, s.Reserved }).SingleOrDefaultAsync(cancellationToken);
        if (sale is null)
        {
            return null;
        }
        var units = await db.Reservations.AsNoTracking()
            .Where(r => r.SaleId == saleId && r.Status != ReservationStatus.Released)
            .GroupBy(r => r.Status)
            .Select(g => new { Status = g.Key, Units = g.Sum(r => r.Quantity) })
            .ToDictionaryAsync(g => g.Status, g => g.Units, cancellationToken);
        var ordered = units.GetValueOrDefault(ReservationStatus.Ordered);
        var reserved = units.GetValueOrDefault(ReservationStatus.Reserved);
        var count = await ledger.CountAsync(saleId, cancellationToken);
        if (count is null && await directory.FindAsync(saleId, cancellationToken) is { } terms)
        {
            await ledger.WarmAsync(terms, cancellationToken);
            count = await ledger.CountAsync(saleId, cancellationToken);
        }
        var inFlight = count?.InFlight ?? 0;
        var remaining = count?.Remaining ?? sale.Quantity - sale.Reserved;

        var differences = new List<string>();
        if (inFlight < 0)
        {
            differences.Add("over 10,000 admitted reservations wait in the Redis stream to be written: not counted; is a worker node running?");
        }
        else if (ordered + reserved + remaining + inFlight != sale.Quantity)
        {
            differences.Add($"quantity {sale.Quantity} ≠ ordered {ordered} + reserved {reserved} + remaining {remaining} + in flight {inFlight} (= {ordered + reserved + remaining + inFlight})");
        }
        if (sale.Reserved != ordered + reserved)
        {
            differences.Add($"the sale's reserved units {sale.Reserved} ≠ ordered {ordered} + reserved {reserved}");
        }
        return new Reconciliation(saleId.ToString(), sale.Quantity, ordered, reserved, remaining, inFlight, sale.Reserved, differences.Count == 0, differences, clock.GetUtcNow());
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Flash sale {SaleId} does not reconcile: quantity {Quantity}, ordered {Ordered}, reserved {Reserved}, remaining {Remaining}, held by the database {Held}: {Differences}")]
    private static partial void LogMismatch(ILogger logger, Guid saleId, int quantity, int ordered, int reserved, int remaining, int held, string differences);
}

/// <summary>Reconciles every sale that is live or ended within the last hour.</summary>
internal sealed class ReconcileSalesJob(FlashSalesDbContext db, SaleReconciler reconciler, TimeProvider clock) : IScheduledJob
{
    public const string Name = "flash-sales.reconcile";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var since = now.AddHours(-1);
        var sales = await db.Sales.AsNoTracking().Where(s => s.StartsAt <= now && s.EndsAt > since).Select(s => s.Id).ToListAsync(cancellationToken);
        foreach (var saleId in sales)
        {
            await reconciler.ReconcileAsync(saleId, cancellationToken);
        }
    }
}
