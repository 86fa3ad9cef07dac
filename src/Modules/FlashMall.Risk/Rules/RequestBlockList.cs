using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using FlashMall.Risk.Domain;
using FlashMall.Contracts.Risk;
using FlashMall.Risk.Persistence;
using Microsoft.AspNetCore.Http;

namespace FlashMall.Risk.Rules;

/// <summary>
/// The block list (<c>Risk:BlockList:*</c>) on every API request, not only coupon claims: a
/// blocked account (once authenticated), device (<c>X-Device-Id</c>) or address (after trusted
/// proxies, CIDR ranges) is refused 403 <c>risk_blocked</c> naming the rule, and each refusal is a
/// decision in the risk log (action <c>request</c>, subject the route). Health, metrics and other
/// endpoints every role answers pass, so a load balancer never sees a blocked range as a dead node.
/// An empty list costs one field read per request.
/// </summary>
internal sealed class RequestBlockList(RequestDelegate next, BlockList blockList, DecisionLog log, IIdGenerator ids, TimeProvider clock)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (blockList.IsEmpty || context.GetEndpoint() is not { } endpoint || endpoint.Metadata.GetMetadata<ServedOnEveryRole>() is not null)
        {
            return next(context);
        }
        var userId = context.User.UserIdValue() is { } id && Guid.TryParse(id, out var parsed) ? parsed : (Guid?)null;
        var deviceId = context.Request.Headers["X-Device-Id"].ToString() is { Length: > 0 } device && DeviceIds.IsValid(device) ? device : null;
        var address = ClientAddress.Of(context);
        var refusal =
            userId is { } user && blockList.HoldsUser(user) ? (RiskRules.BlockedUser, "This account is blocked.")
            : blockList.HoldsDevice(deviceId) ? (RiskRules.BlockedDevice, "This device is blocked.")
            : blockList.HoldsIp(address) ? (RiskRules.BlockedIp, "This network address is blocked.")
            : default((string Rule, string Detail)?);
        if (refusal is not { } blocked)
        {
            return next(context);
        }
        var route = endpoint is Microsoft.AspNetCore.Routing.RouteEndpoint routed ? "/" + routed.RoutePattern.RawText?.Trim('/') : context.Request.Path.Value;
        log.Record(RiskDecision.Refusal(ids.NewId(), clock.GetUtcNow(), RiskActions.Request, blocked.Rule, userId,
            deviceId, address, $"{context.Request.Method} {route}", blocked.Detail));
        var problem = Problems.Create(StatusCodes.Status403Forbidden, ProblemCodes.RiskBlocked, "Refused by abuse controls", blocked.Detail);
        problem.ProblemDetails.Extensions["rule"] = blocked.Rule;
        return problem.ExecuteAsync(context);
    }
}

/// <summary>While the block list holds anything, hot paths (the purchase) take the full pipeline, so <see cref="RequestBlockList"/> sees them.</summary>
internal sealed class BlockListVeto(BlockList blockList) : IHotPathVeto
{
    public bool Vetoes(HttpContext context) => !blockList.IsEmpty;
}
