namespace FlashMall.Contracts.Ordering;

/// <summary>
/// An unpaid order was cancelled (by its buyer, or by the payment deadline): a flash-sale
/// order's units go back to its sale, a regular order's <see cref="Lines"/> to the catalog's
/// stock. Published through the Ordering module's outbox.
/// </summary>
public sealed record OrderCancelled(
    Guid OrderId, Guid UserId, Guid? FlashSaleId, Guid? ReservationId, string Reason, DateTimeOffset CancelledAt,
    IReadOnlyList<OrderedLine>? Lines = null);

/// <summary>A line of an order: units of a SKU at the price frozen on the order.</summary>
public sealed record OrderedLine(Guid SkuId, Guid ProductId, int Quantity, long UnitPrice);

/// <summary>A buyer placed a regular order (its stock already taken in the same transaction). Published through the Ordering outbox.</summary>
public sealed record OrderPlaced(Guid OrderId, Guid UserId, IReadOnlyList<OrderedLine> Lines, long Total, DateTimeOffset PlacedAt);

/// <summary>
/// An order was paid (a verified payment settled it, once): Catalog counts its units as sales.
/// Published through the Ordering outbox in the payment's transaction.
/// </summary>
public sealed record OrderPaid(
    Guid OrderId, Guid UserId, Guid? FlashSaleId, Guid PaymentId, IReadOnlyList<OrderedLine> Lines, long Total, DateTimeOffset PaidAt);

/// <summary>
/// A paid order was refunded by an operator: its units return (a regular order's to the catalog's
/// stock, a flash-sale order's to its sale) and no longer count as sales. Published through the
/// Ordering outbox in the refund's transaction.
/// </summary>
public sealed record OrderRefunded(
    Guid OrderId, Guid UserId, Guid? FlashSaleId, Guid? ReservationId, IReadOnlyList<OrderedLine> Lines, long Total, DateTimeOffset RefundedAt);
