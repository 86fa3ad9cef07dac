using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace FlashMall.Accounts.Security;

/// <summary>
/// Counts failed logins per client IP across all accounts (credential stuffing spreads over
/// accounts to dodge per-account lockout). Past the limit, logins from that IP are refused until
/// the window ends. Independent of <c>RateLimiting:Enabled</c>.
/// </summary>
internal sealed class LoginFailureThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _failures;

    public LoginFailureThrottle(IOptions<AccountsOptions> options)
    {
        var settings = options.Value;
        _failures = PartitionedRateLimiter.Create<string, string>(ip => RateLimitPartition.GetFixedWindowLimiter(ip, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = settings.MaxFailedLoginsPerIp,
            Window = settings.LockoutDuration,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    public bool IsBlocked(string ip) => _failures.GetStatistics(ip)?.CurrentAvailablePermits == 0;

    public void RecordFailure(string ip)
    {
        using var lease = _failures.AttemptAcquire(ip);
    }

    public void Dispose() => _failures.Dispose();
}
