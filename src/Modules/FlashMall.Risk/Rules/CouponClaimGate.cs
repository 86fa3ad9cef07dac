using FlashMall.Contracts.Accounts;
using FlashMall.Contracts.Risk;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Risk.Domain;
using FlashMall.Risk.Persistence;
using FlashMall.Risk.Velocity;
using Microsoft.Extensions.Options;

namespace FlashMall.Risk.Rules;

/// <summary>
/// The coupon-claim rules, cheapest first: the block list (user, device, IP), the template's
/// new-account cool-down (the account's age from Accounts, asked only when the template has
/// one), then the velocity windows per user, device and IP, counted together in one call.
/// <c>RateLimiting:Enabled=false</c> lifts the velocity rules only. Each refusal goes to the
/// decisions log; allowed claims do not (they are the coupon rows themselves, and logging every
/// claim of a coupon drop would double its writes).
/// </summary>
internal sealed class CouponClaimGate(
    BlockList blockList, IVelocityCounters counters, IAccountDirectory accounts, DecisionLog log,
    IOptions<CouponClaimRiskOptions> rules, IOptions<RateLimitingOptions> rateLimiting, IIdGenerator ids, TimeProvider clock) : IRiskGate
{
    public async Task<RiskVerdict> EvaluateCouponClaimAsync(CouponClaimAttempt attempt, CancellationToken cancellationToken = default)
    {
        var verdict = await DecideAsync(attempt, cancellationToken);
        if (!verdict.Allowed)
        {
            log.Record(RiskDecision.Refusal(ids.NewId(), clock.GetUtcNow(), RiskActions.CouponClaim, verdict.Rule!, attempt.UserId,
                attempt.DeviceId, attempt.ClientIp, attempt.TemplateId.ToString(), verdict.Detail!));
        }
        return verdict;
    }

    private async Task<RiskVerdict> DecideAsync(CouponClaimAttempt attempt, CancellationToken cancellationToken)
    {
        if (blockList.HoldsUser(attempt.UserId))
        {
            return RiskVerdict.Refuse(RiskRules.BlockedUser, "This account is blocked from claiming coupons.");
        }
        if (blockList.HoldsDevice(attempt.DeviceId))
        {
            return RiskVerdict.Refuse(RiskRules.BlockedDevice, "This device is blocked from claiming coupons.");
        }
        if (blockList.HoldsIp(attempt.ClientIp))
        {
            return RiskVerdict.Refuse(RiskRules.BlockedIp, "This network address is blocked from claiming coupons.");
        }
        if (attempt.NewAccountCoolDown > TimeSpan.Zero)
        {
            var createdAt = await accounts.CreatedAtAsync(attempt.UserId, cancellationToken);
            if (createdAt is null || clock.GetUtcNow() - createdAt.Value < attempt.NewAccountCoolDown)
            {
                return RiskVerdict.Refuse(RiskRules.NewAccountCoolDown,
                    $"Accounts younger than {attempt.NewAccountCoolDown.TotalHours:0.##} hours cannot claim this coupon.");
            }
        }
        return rateLimiting.Value.Enabled ? await CheckVelocityAsync(attempt, cancellationToken) : RiskVerdict.Allow;
    }

    private async Task<RiskVerdict> CheckVelocityAsync(CouponClaimAttempt attempt, CancellationToken cancellationToken)
    {
        var options = rules.Value;
        var checks = new List<(string Name, VelocityWindow Window, VelocityRule Rule, string Who)>(3);
        Add(RiskRules.UserVelocity, options.PerUser, attempt.UserId.ToString("N"), "this account");
        Add(RiskRules.DeviceVelocity, options.PerDevice, attempt.DeviceId, "this device");
        Add(RiskRules.IpVelocity, options.PerIp, attempt.ClientIp, "this network address");
        if (checks.Count == 0)
        {
            return RiskVerdict.Allow;
        }
        var counts = await counters.CountAsync([.. checks.Select(c => c.Window)], cancellationToken);
        for (var i = 0; i < checks.Count; i++)
        {
            var (name, _, rule, who) = checks[i];
            if (counts[i] > rule.Limit)
            {
                return RiskVerdict.Refuse(name,
                    $"Too many coupon claims from {who}: at most {rule.Limit} per {rule.Window:g}; try again later.");
            }
        }
        return RiskVerdict.Allow;

        void Add(string name, VelocityRule rule, string? key, string who)
        {
            if (rule.Limit > 0 && key is not null)
            {
                checks.Add((name, new VelocityWindow($"coupon-claim:{name}", key, rule.Window), rule, who));
            }
        }
    }
}
