namespace FlashMall.FlashSales.Domain;

internal static class ReservationStatus
{
    public const string Reserved = "reserved";
    public const string Ordered = "ordered";
    public const string Released = "released";
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

    public static Reservation Create(Guid id, Guid saleId, Guid userId, int quantity, DateTimeOffset now) =>
        new() { Id = id, SaleId = saleId, UserId = userId, Quantity = quantity, CreatedAt = now };
}
