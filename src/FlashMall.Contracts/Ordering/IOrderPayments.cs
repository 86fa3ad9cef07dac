using System.Data.Common;

namespace FlashMall.Contracts.Ordering;

/// <summary>The order states other modules may read in <see cref="PayableOrder.Status"/> (the API's values).</summary>
public static class OrderStates
{
    public const string PendingPayment = "pending_payment";
    public const string Paid = "paid";
    public const string Refunded = "refunded";
}

/// <summary>What the Payments module may know of an order: whose it is, its state, what it costs and until when.</summary>
public sealed record PayableOrder(Guid OrderId, Guid UserId, string Status, long Total, DateTimeOffset PayBefore);

/// <summary>
/// The Ordering module's part of the money path: Payments reads an order through it and moves
/// it to <c>paid</c> or <c>refunded</c> inside Payments' own transaction (on its connection), so
/// the payment's record and the order's state commit together or not at all.
/// </summary>
public interface IOrderPayments
{
    /// <summary>The order, or null when there is none with this id.</summary>
    Task<PayableOrder?> FindAsync(Guid orderId, CancellationToken cancellationToken = default);

    /// <summary>
    /// <c>pending_payment → paid</c> with <see cref="OrderPaid"/>, inside <paramref name="transaction"/>;
    /// false, and nothing changed, when the order is not awaiting payment (already paid, cancelled …).
    /// </summary>
    Task<bool> MarkPaidAsync(Guid orderId, Guid paymentId, DbTransaction transaction, CancellationToken cancellationToken = default);

    /// <summary><c>paid → refunded</c> with <see cref="OrderRefunded"/>, inside <paramref name="transaction"/>; false, and nothing changed, otherwise.</summary>
    Task<bool> MarkRefundedAsync(Guid orderId, DbTransaction transaction, CancellationToken cancellationToken = default);
}
