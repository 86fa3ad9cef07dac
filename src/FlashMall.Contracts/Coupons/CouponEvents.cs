namespace FlashMall.Contracts.Coupons;

/// <summary>A buyer claimed a coupon of a template. Published through the Coupons outbox with the claim.</summary>
public sealed record CouponClaimed(Guid CouponId, Guid TemplateId, Guid UserId, DateTimeOffset ClaimedAt);

/// <summary>
/// A coupon was redeemed by an order for <paramref name="Discount"/> fen. Published through the
/// Coupons outbox in the checkout's own transaction: it exists exactly when the order does.
/// </summary>
public sealed record CouponRedeemed(Guid CouponId, Guid TemplateId, Guid UserId, Guid OrderId, long Discount, DateTimeOffset RedeemedAt);

/// <summary>A cancelled or expired order gave its coupon back to the buyer (unused again).</summary>
public sealed record CouponReleased(Guid CouponId, Guid TemplateId, Guid UserId, Guid OrderId, DateTimeOffset ReleasedAt);
