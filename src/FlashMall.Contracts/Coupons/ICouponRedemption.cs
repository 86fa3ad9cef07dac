using System.Data.Common;

namespace FlashMall.Contracts.Coupons;

/// <summary>The Coupons module's part of a checkout: it redeems a buyer's coupon inside the order's transaction.</summary>
public interface ICouponRedemption
{
    /// <summary>
    /// Redeems <paramref name="couponId"/> for <paramref name="orderId"/> inside the caller's open
    /// transaction (on its connection) and answers the discount in fen; null, and nothing changed,
    /// when it does not apply: not this buyer's, already used, outside its window, or the
    /// subtotal below its minimum spend. Percent discounts round down to the fen.
    /// </summary>
    Task<long?> TryRedeemAsync(Guid couponId, Guid userId, Guid orderId, long subtotal, DbTransaction transaction, CancellationToken cancellationToken = default);
}
