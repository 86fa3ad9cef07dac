namespace FlashMall.Risk.Domain;

/// <summary>The actions the rules guard, as recorded in the decisions log.</summary>
internal static class RiskActions
{
    public const string CouponClaim = "coupon.claim";

    /// <summary>Any API request refused by the block list.</summary>
    public const string Request = "request";
}

/// <summary>
/// One refusal by an abuse rule: what was attempted (<see cref="Action"/> on
/// <see cref="Subject"/>, e.g. a coupon template), by whom and from where, and which
/// <see cref="Rule"/> refused it. Written once, never changed; purged after the retention.
/// </summary>
internal sealed class RiskDecision
{
    public const int MaxDetailLength = 256;

    private RiskDecision()
    {
    }

    public Guid Id { get; private set; }
    public DateTimeOffset At { get; private set; }
    public string Action { get; private set; } = "";
    public string Rule { get; private set; } = "";
    public Guid? UserId { get; private set; }
    public string? DeviceId { get; private set; }
    public string? Ip { get; private set; }
    public string? Subject { get; private set; }
    public string Detail { get; private set; } = "";

    public static RiskDecision Refusal(
        Guid id, DateTimeOffset at, string action, string rule, Guid? userId, string? deviceId, string? ip, string? subject, string detail) => new()
    {
        Id = id,
        At = at,
        Action = action,
        Rule = rule,
        UserId = userId,
        DeviceId = deviceId,
        Ip = ip,
        Subject = subject,
        Detail = detail.Length > MaxDetailLength ? detail[..MaxDetailLength] : detail,
    };
}
