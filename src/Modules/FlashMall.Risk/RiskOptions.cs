using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;

namespace FlashMall.Risk;

/// <summary>
/// A velocity rule: at most <see cref="Limit"/> attempts in a fixed <see cref="Window"/> that
/// starts at the first attempt; <c>Limit = 0</c> turns the rule off.
/// </summary>
internal sealed class VelocityRule
{
    [Range(0, 10_000_000)]
    public int Limit { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary><c>Risk:CouponClaims:*</c>: velocity limits on <c>POST /api/coupons/claim</c>, lifted by <c>RateLimiting:Enabled=false</c>.</summary>
internal sealed class CouponClaimRiskOptions
{
    public const string SectionName = "Risk:CouponClaims";

    /// <summary>Claims per account: a person taps a few coupons a minute.</summary>
    [ValidateObjectMembers]
    public VelocityRule PerUser { get; set; } = new() { Limit = 10 };

    /// <summary>Claims per <c>X-Device-Id</c>, whatever account: one phone farming many accounts.</summary>
    [ValidateObjectMembers]
    public VelocityRule PerDevice { get; set; } = new() { Limit = 20 };

    /// <summary>
    /// Claims per client IP, whatever account or device. Loose: a carrier's NAT puts thousands of
    /// phones behind one address during a coupon drop; this only stops one host flooding.
    /// </summary>
    [ValidateObjectMembers]
    public VelocityRule PerIp { get; set; } = new() { Limit = 3_000 };
}

[OptionsValidator]
internal sealed partial class CouponClaimRiskOptionsValidator : IValidateOptions<CouponClaimRiskOptions>;

/// <summary>
/// <c>Risk:BlockList:*</c>: accounts (user ids), devices (<c>X-Device-Id</c> values) and client
/// addresses (an IP or a CIDR range) refused whatever else holds — even with
/// <c>RateLimiting:Enabled=false</c>.
/// </summary>
internal sealed class BlockListOptions
{
    public const string SectionName = "Risk:BlockList";

    public List<string> Users { get; set; } = [];

    public List<string> Devices { get; set; } = [];

    public List<string> Ips { get; set; } = [];
}

/// <summary>Every entry must parse: a typo in a block list must stop the node, not silently block nobody.</summary>
internal sealed class BlockListOptionsValidator : IValidateOptions<BlockListOptions>
{
    public ValidateOptionsResult Validate(string? name, BlockListOptions options)
    {
        var failures = new List<string>();
        failures.AddRange(options.Users.Where(u => !Guid.TryParse(u, out _)).Select(u => $"Risk:BlockList:Users: '{u}' is not a user id."));
        failures.AddRange(options.Devices.Where(d => !Contracts.Risk.DeviceIds.IsValid(d))
            .Select(d => $"Risk:BlockList:Devices: '{d}' is not a device id (1–{Contracts.Risk.DeviceIds.MaxLength} visible ASCII characters)."));
        failures.AddRange(options.Ips.Where(ip => BlockList.ParseNetwork(ip) is null).Select(ip => $"Risk:BlockList:Ips: '{ip}' is not an IP address or CIDR range."));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The block list, parsed once at start.</summary>
internal sealed class BlockList(IOptions<BlockListOptions> options)
{
    private readonly HashSet<Guid> _users = [.. options.Value.Users.Select(Guid.Parse)];
    private readonly HashSet<string> _devices = new(options.Value.Devices, StringComparer.Ordinal);
    private readonly IPNetwork[] _networks = [.. options.Value.Ips.Select(ip => ParseNetwork(ip)!.Value)];

    /// <summary>Nothing is listed: the request-wide check is skipped.</summary>
    public bool IsEmpty { get; } = options.Value.Users.Count == 0 && options.Value.Devices.Count == 0 && options.Value.Ips.Count == 0;

    public bool HoldsUser(Guid userId) => _users.Contains(userId);

    public bool HoldsDevice(string? deviceId) => deviceId is not null && _devices.Contains(deviceId);

    public bool HoldsIp(string? ip) =>
        _networks.Length > 0 && IPAddress.TryParse(ip, out var address) && _networks.Any(n => n.Contains(Normalize(address)));

    public static IPNetwork? ParseNetwork(string value)
    {
        if (IPAddress.TryParse(value, out var address))
        {
            address = Normalize(address);
            return new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        }
        return IPNetwork.TryParse(value, out var network) ? network : null;
    }

    /// <summary>A dual-stack socket reports IPv4 clients as <c>::ffff:a.b.c.d</c>; compare them as IPv4.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}

/// <summary><c>Risk:*</c>: the decisions log.</summary>
internal sealed class RiskOptions
{
    public const string SectionName = "Risk";

    /// <summary>How long refusals stay in the decisions log (purged daily).</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan DecisionRetention { get; set; } = TimeSpan.FromDays(90);
}

[OptionsValidator]
internal sealed partial class RiskOptionsValidator : IValidateOptions<RiskOptions>;
