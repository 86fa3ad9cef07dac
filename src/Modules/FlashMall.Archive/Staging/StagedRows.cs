using FlashMall.Contracts.Ordering;

namespace FlashMall.Archive.Staging;

/// <summary>An order event as staged (JSON): one Parquet row per line at export.</summary>
internal sealed record StagedOrder(
    string Event, Guid OrderId, Guid UserId, Guid? FlashSaleId, Guid? ReservationId, Guid? PaymentId,
    IReadOnlyList<OrderedLine>? Lines, long Total, string? Reason);

/// <summary>A payment captured (an order paid) or refunded.</summary>
internal sealed record StagedPayment(string Event, Guid? PaymentId, Guid OrderId, Guid UserId, Guid? FlashSaleId, long Amount);

/// <summary>A coupon claimed, redeemed by an order, or released by a cancelled one.</summary>
internal sealed record StagedCoupon(string Event, Guid CouponId, Guid TemplateId, Guid UserId, Guid? OrderId, long? Discount);

/// <summary>An answered shopper search.</summary>
internal sealed record StagedSearch(
    Guid QueryId, string Text, Guid? CategoryId, string? Brand, string Sort, int Page, int Results, bool Degraded, Guid? UserId);
