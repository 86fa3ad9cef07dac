namespace FlashMall.Contracts.FlashSales;

/// <summary>
/// A reservation that has no order yet, with what the order needs to be written, and the W3C
/// trace context of the purchase (null when it was not traced), which the order's span continues.
/// </summary>
public sealed record ReservationToOrder(
    Guid ReservationId, Guid SaleId, Guid UserId, Guid SkuId, Guid ProductId, string ProductName, long SalePrice, int Quantity, DateTimeOffset ReservedAt,
    string? TraceParent = null);

/// <summary>
/// The FlashSales module's reservations as the Ordering module turns them into orders (the
/// rows the ledger wrote — at once on the embedded ledger, from its stream on the Redis one).
/// Ordering creates each order idempotently — the order's id is the reservation's id — then
/// reports it here.
/// </summary>
public interface IFlashSaleReservations
{
    /// <summary>Up to <paramref name="max"/> reservations not yet ordered, oldest first.</summary>
    Task<IReadOnlyList<ReservationToOrder>> ToOrderAsync(int max, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records that these reservations became orders, each order's id being its reservation's id
    /// (one statement; idempotent).
    /// </summary>
    Task MarkOrderedAsync(IReadOnlyCollection<Guid> reservationIds, CancellationToken cancellationToken = default);
}

/// <summary>A flash-sale reservation as the business archive keeps it: its current status (<c>reserved</c>, <c>ordered</c>, <c>released</c>).</summary>
public sealed record ReservationRecord(
    Guid ReservationId, Guid SaleId, Guid UserId, Guid SkuId, Guid ProductId, long SalePrice, int Quantity,
    string Status, Guid? OrderId, string? ReleasedReason, DateTimeOffset ReservedAt);

/// <summary>
/// The FlashSales module's reservations as the business archive reads them once a day (a
/// reservation publishes no event: the purchase path stays free of outbox writes).
/// </summary>
public interface IFlashSaleReservationLog
{
    /// <summary>
    /// Up to <paramref name="max"/> reservations made in [<paramref name="start"/>, <paramref name="until"/>),
    /// in (time, id) order, skipping the first <paramref name="skip"/> (pages of a day), read without tracking.
    /// </summary>
    Task<IReadOnlyList<ReservationRecord>> ReservedBetweenAsync(
        DateTimeOffset start, DateTimeOffset until, int skip, int max, CancellationToken cancellationToken = default);
}
