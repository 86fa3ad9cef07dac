using System.Data.Common;

namespace FlashMall.Contracts.Coupons;

/// <summary>A checkout line as coupons see it: its amount in fen and its product's category path (<c>/root/…/leaf/</c>, ids in <c>N</c> format).</summary>
public sealed record CouponLine(Guid ProductId, string CategoryPath, long Amount);

/// <summary>The Coupons module's part of a checkout: it redeems a buyer's coupons inside the order's transaction.</summary>
public interface ICouponRedemption
{
    /// <summary>
    /// Redeems <paramref name="couponIds"/> for <paramref name="orderId"/> inside the caller's open
    /// transaction (on its connection) and answers the discount in fen; null when any of them does
    /// not apply (not this buyer's, used, outside its window, no line in its categories, the
    /// eligible amount below its minimum spend, or several coupons where one's template does not
    /// allow stacking) — then some may be marked used already and the caller must roll back.
    /// Percent discounts round down to the fen; the sum never passes the subtotal.
    /// </summary>
    Task<long?> TryRedeemAsync(IReadOnlyList<Guid> couponIds, Guid userId, Guid orderId, IReadOnlyList<CouponLine> lines, DbTransaction transaction,
        CancellationToken cancellationToken = default);
}
