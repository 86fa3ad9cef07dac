namespace FlashMall.FlashSales.Domain;

internal static class ReservationStatus
{
    public const string Reserved = "reserved";
    public const string Ordered = "ordered";
    public const string Released = "released";
}

internal static class ReleaseReason
{
    /// <summary>The Redis gate admitted it, the database refused it (no units or the buyer's limit): never an order.</summary>
    public const string GateFalsePositive = "gate_false_positive";
}

/// <summary>
/// Units of a flash sale held for one buyer: written durably before the buyer hears "reserved",
/// later turned into an order or released (unpaid, cancelled, or refused by the database).
/// </summary>
internal sealed class Reservation
{
    private Reservation()
    {
    }

    public Guid Id { get; private set; }
    public Guid SaleId { get; private set; }
    public Guid UserId { get; private set; }
    public int Quantity { get; private set; }
    public string Status { get; private set; } = ReservationStatus.Reserved;
    public Guid? OrderId { get; private set; }
    public string? ReleasedReason { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>
    /// The W3C trace context of the purchase that admitted it (null when telemetry is off or the
    /// trace was not recorded): the order made from it joins the purchase's trace.
    /// </summary>
    public string? TraceParent { get; private set; }

    /// <summary>A traceparent of version 00 is 55 characters; a longer one is not kept.</summary>
    public const int MaxTraceParentLength = 55;

    public static Reservation Create(Guid id, Guid saleId, Guid userId, int quantity, DateTimeOffset now, string? traceParent = null) =>
        new()
        {
            Id = id, SaleId = saleId, UserId = userId, Quantity = quantity, CreatedAt = now,
            TraceParent = traceParent is { Length: <= MaxTraceParentLength } ? traceParent : null,
        };

    /// <summary>A reservation the gate admitted and the database refused: released from the start, holding nothing.</summary>
    public static Reservation Refused(Guid id, Guid saleId, Guid userId, int quantity, DateTimeOffset admittedAt) =>
        new()
        {
            Id = id, SaleId = saleId, UserId = userId, Quantity = quantity, CreatedAt = admittedAt,
            Status = ReservationStatus.Released, ReleasedReason = ReleaseReason.GateFalsePositive,
        };
}
