using System.Diagnostics.Metrics;

namespace FlashMall.Coupons;

/// <summary>The Coupons module's business instruments (meter <c>FlashMall.Coupons</c>).</summary>
internal static class CouponsTelemetry
{
    private static readonly Meter Meter = new("FlashMall.Coupons");

    /// <summary><c>flashmall.coupons.claims</c>: claim attempts by result (claimed, limit_reached, exhausted, risk_blocked, not_claimable).</summary>
    private static readonly Counter<long> Claims = Meter.CreateCounter<long>("flashmall.coupons.claims", unit: "{claim}",
        description: "Coupon claim attempts by result: claimed, limit_reached, exhausted, risk_blocked, not_claimable.");

    public static void Claim(string result) => Claims.Add(1, new KeyValuePair<string, object?>("result", result));
}
