using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using FlashMall.FlashSales.Ledger;

namespace FlashMall.FlashSales;

/// <summary>
/// The FlashSales module's spans (<c>FlashMall.FlashSales</c>: a purchase's admission, ledger
/// and response) and business instruments. Labels are bounded: the outcome names below.
/// </summary>
internal sealed class FlashSalesTelemetry
{
    public static readonly ActivitySource Source = new(SaleReconciler.MeterName);

    private static readonly InstrumentAdvice<double> SellOutBuckets = new()
    {
        HistogramBucketBoundaries = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600],
    };

    private readonly Counter<long> _reservations;
    private readonly Histogram<double> _sellOut;
    private readonly ConcurrentDictionary<Guid, bool> _soldOut = new();

    public FlashSalesTelemetry(IMeterFactory meters, ReservationWriter writer)
    {
        var meter = meters.Create(SaleReconciler.MeterName);
        _reservations = meter.CreateCounter<long>("flashmall.flash_sales.reservations", unit: "{purchase}",
            description: "Purchase attempts by outcome: reserved, replayed, sold_out, limit_reached, not_started, ended, recovering, in_flight, key_reused, failed.");
        _sellOut = meter.CreateHistogram("flashmall.flash_sales.sell_out.duration", unit: "s",
            description: "Seconds from a sale's start to its first sold-out answer on this node (one observation per sale and node).", advice: SellOutBuckets);
        meter.CreateObservableGauge("flashmall.flash_sales.reservation_writer.queue", () => writer.Waiting, unit: "{reservation}",
            description: "Reservations waiting in the in-process writer's channel for the next group commit.");
    }

    /// <summary>Counts one purchase attempt's outcome (no allocation: constant labels).</summary>
    public void Purchase(string outcome) => _reservations.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>The first sold-out answer for a sale on this node records how long it took to sell out.</summary>
    public void SoldOut(SaleTerms sale, DateTimeOffset now)
    {
        if (_sellOut.Enabled && now >= sale.StartsAt && now < sale.EndsAt && _soldOut.TryAdd(sale.SaleId, true))
        {
            _sellOut.Record((now - sale.StartsAt).TotalSeconds);
        }
    }

    public static string OutcomeName(ReserveOutcome outcome) => outcome switch
    {
        ReserveOutcome.Reserved => "reserved",
        ReserveOutcome.Replayed => "replayed",
        ReserveOutcome.InFlight => "in_flight",
        ReserveOutcome.KeyReused => "key_reused",
        ReserveOutcome.SoldOut => "sold_out",
        ReserveOutcome.LimitReached => "limit_reached",
        ReserveOutcome.NotStarted => "not_started",
        ReserveOutcome.Ended => "ended",
        ReserveOutcome.Recovering => "recovering",
        ReserveOutcome.Busy => "busy",
        _ => "other",
    };
}
