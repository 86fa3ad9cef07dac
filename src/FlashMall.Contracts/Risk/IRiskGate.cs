namespace FlashMall.Contracts.Risk;

/// <summary>
/// The Risk module's abuse rules, asked by the module that is about to act. A refusal names the
/// rule that fired; the caller answers <c>403 risk_blocked</c> and changes nothing.
/// </summary>
public interface IRiskGate
{
    /// <summary>
    /// Evaluates a coupon claim before any coupon is taken, in order: the block list, the
    /// template's new-account cool-down, then the per-user, per-device and per-IP velocity
    /// windows (each evaluated attempt counts in every window it belongs to). A refusal is
    /// written to the decisions log; an allowed claim is not.
    /// </summary>
    Task<RiskVerdict> EvaluateCouponClaimAsync(CouponClaimAttempt attempt, CancellationToken cancellationToken = default);
}

/// <summary>
/// A buyer's attempt to claim a coupon of <paramref name="TemplateId"/>.
/// <paramref name="DeviceId"/> is the client's <c>X-Device-Id</c> (already checked with
/// <see cref="DeviceIds.IsValid"/>), <paramref name="ClientIp"/> the client's address (after
/// trusted proxies); either may be absent. <paramref name="NewAccountCoolDown"/> is the
/// template's cool-down (zero: off): an account younger than that is refused.
/// </summary>
public sealed record CouponClaimAttempt(Guid UserId, string? DeviceId, string? ClientIp, Guid TemplateId, TimeSpan NewAccountCoolDown);

/// <summary>Allowed (<see cref="Rule"/> null), or refused by <see cref="Rule"/> with a <see cref="Detail"/> for the refusal's text.</summary>
public sealed record RiskVerdict(string? Rule, string? Detail)
{
    public static readonly RiskVerdict Allow = new(null, null);

    public bool Allowed => Rule is null;

    public static RiskVerdict Refuse(string rule, string detail) => new(rule, detail);
}

/// <summary>The stable names of the rules, as sent in a refusal's <c>rule</c> and kept in the decisions log.</summary>
public static class RiskRules
{
    public const string BlockedUser = "blocked_user";
    public const string BlockedDevice = "blocked_device";
    public const string BlockedIp = "blocked_ip";
    public const string NewAccountCoolDown = "new_account_cool_down";
    public const string UserVelocity = "user_velocity";
    public const string DeviceVelocity = "device_velocity";
    public const string IpVelocity = "ip_velocity";
}

/// <summary>The <c>X-Device-Id</c> header: an app's install id, 1–64 visible ASCII characters.</summary>
public static class DeviceIds
{
    public const string Header = "X-Device-Id";
    public const int MaxLength = 64;

    public static bool IsValid(string value) =>
        value.Length is > 0 and <= MaxLength && value.All(c => c is > ' ' and <= '~');
}
