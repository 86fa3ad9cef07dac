using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FlashMall.Ordering;

/// <summary>
/// The Ordering module's business instruments (meter <c>FlashMall.Ordering</c>) and its spans.
/// Labels: <c>source</c> (flash_sale, checkout) and cancellation <c>reason</c> (the module's
/// constants) — bounded; amounts in fen.
/// </summary>
internal sealed class OrderingTelemetry
{
    public const string Name = "FlashMall.Ordering";
    public const string FlashSale = "flash_sale";
    public const string Checkout = "checkout";

    public static readonly ActivitySource Source = new(Name);

    private static readonly InstrumentAdvice<double> LagBuckets = new()
    {
        HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
    };

    private readonly Counter<long> _placed;
    private readonly Counter<long> _gmv;
    private readonly Counter<long> _paid;
    private readonly Counter<long> _paidAmount;
    private readonly Counter<long> _cancelled;
    private readonly Histogram<double> _reservationLag;

    public OrderingTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        _placed = meter.CreateCounter<long>("flashmall.orders.placed", unit: "{order}", description: "Orders placed, by source (flash_sale, checkout).");
        _gmv = meter.CreateCounter<long>("flashmall.orders.gmv", unit: "{fen}", description: "Gross merchandise value placed, in fen (minor units), by source.");
        _paid = meter.CreateCounter<long>("flashmall.orders.paid", unit: "{order}", description: "Orders paid, by source.");
        _paidAmount = meter.CreateCounter<long>("flashmall.orders.paid_amount", unit: "{fen}", description: "Amount paid for orders, in fen, by source.");
        _cancelled = meter.CreateCounter<long>("flashmall.orders.cancelled", unit: "{order}", description: "Orders cancelled, by reason (buyer_cancelled, payment_timeout).");
        _reservationLag = meter.CreateHistogram("flashmall.orders.reservation_to_order.duration", unit: "s",
            description: "Seconds from a flash-sale reservation to its order.", advice: LagBuckets);
    }

    public static string SourceOf(Guid? flashSaleId) => flashSaleId is null ? Checkout : FlashSale;

    public void Placed(string source, long total, int count = 1)
    {
        _placed.Add(count, new KeyValuePair<string, object?>("source", source));
        _gmv.Add(total, new KeyValuePair<string, object?>("source", source));
    }

    public void Paid(string source, long total)
    {
        _paid.Add(1, new KeyValuePair<string, object?>("source", source));
        _paidAmount.Add(total, new KeyValuePair<string, object?>("source", source));
    }

    public void Cancelled(string reason) => _cancelled.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void ReservationToOrder(TimeSpan lag) => _reservationLag.Record(Math.Max(0, lag.TotalSeconds));
}
