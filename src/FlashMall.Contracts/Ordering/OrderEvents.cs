namespace FlashMall.Contracts.Ordering;

/// <summary>
/// An unpaid order was cancelled (by its buyer, or by the payment deadline); a flash-sale order's
/// units go back to its sale. Published through the Ordering module's outbox.
/// </summary>
public sealed record OrderCancelled(Guid OrderId, Guid UserId, Guid? FlashSaleId, Guid? ReservationId, string Reason, DateTimeOffset CancelledAt);
