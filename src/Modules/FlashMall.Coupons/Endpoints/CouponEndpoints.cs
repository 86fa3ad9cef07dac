using System.Security.Claims;
using FlashMall.Contracts.Risk;
using FlashMall.Coupons.Domain;
using FlashMall.Coupons.Persistence;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using CouponClaimedEvent = FlashMall.Contracts.Coupons.CouponClaimed;

namespace FlashMall.Coupons.Endpoints;

internal sealed record TemplateRequest(
    string? Name, string? Kind, long? Value, long? MaxDiscount, long? MinSpend, int? TotalQuantity, int? PerUserLimit,
    DateTimeOffset? ValidFrom, DateTimeOffset? ValidTo, int? NewAccountCoolDownHours = null, IReadOnlyList<string>? CategoryIds = null, bool? Stackable = null);
internal sealed record TemplateCreated(string Id);
internal sealed record ClaimRequest(string? TemplateId);
internal sealed record CouponClaimed(string CouponId);
internal sealed record CouponView(
    string CouponId, string TemplateId, string Name, string Kind, long Value, long? MaxDiscount, long MinSpend,
    DateTimeOffset ValidFrom, DateTimeOffset ValidTo, string Status, DateTimeOffset ClaimedAt, IReadOnlyList<string> CategoryIds, bool Stackable);

/// <summary>
/// Coupon templates (merchandisers) and claiming (buyers): exactly <c>totalQuantity</c> coupons
/// at most, and at most <c>perUserLimit</c> per buyer, whatever arrives at once.
/// </summary>
internal static class CouponEndpoints
{
    public const string CouponsExhausted = "coupons_exhausted";
    public const string LimitReached = "limit_reached";
    public const string NotClaimable = "not_claimable";
    public const long MaxMoney = 10_000_000_000;
    public const int MaxQuantity = 10_000_000;
    public const int MaxPerUser = 100;
    public const int MaxCategories = 20;

    private static bool AddDistinct(List<Guid> ids, Guid id)
    {
        if (ids.Contains(id))
        {
            return false;
        }
        ids.Add(id);
        return true;
    }
    public const int MaxCoolDownHours = 24 * 365;

    public static void MapCouponEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/admin/coupon-templates", Create).WithTags("Coupons admin").NonCore()
            .RequireAuthorization(Policies.Merchandiser)
            .WithIdempotency<RouteHandlerBuilder, CouponsDbContext>();
        routes.MapPost("/api/coupons/claim", Claim).WithTags("Coupons").Core().RequireAuthorization()
            .WithIdempotency<RouteHandlerBuilder, CouponsDbContext>();
        routes.MapGet("/api/coupons", Mine).WithTags("Coupons").Core().RequireAuthorization();
    }

    private static async Task<Results<Created<TemplateCreated>, ProblemHttpResult>> Create(
        TemplateRequest request, CouponsDbContext db, IIdGenerator ids, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var validator = new Validator();
        validator.RequiredText(request.Name, "name", 100);
        validator.Require(request.Kind is CouponKind.AmountOff or CouponKind.PercentOff, "kind", "amount_off or percent_off.");
        validator.Require(request.Kind == CouponKind.PercentOff ? request.Value is >= 1 and <= 99 : request.Value is > 0 and <= MaxMoney,
            "value", "Fen off (1 to 10,000,000,000) for amount_off; percent off (1–99) for percent_off.");
        validator.Require(request.MaxDiscount is null || (request.Kind == CouponKind.PercentOff && request.MaxDiscount is > 0 and <= MaxMoney),
            "maxDiscount", "A cap in fen, for percent_off only.");
        validator.Require(request.MinSpend is null or (>= 0 and <= MaxMoney), "minSpend", "Fen, 0 or more.");
        validator.Require(request.TotalQuantity is > 0 and <= MaxQuantity, "totalQuantity", $"From 1 to {MaxQuantity:N0}.");
        validator.Require(request.PerUserLimit is > 0 and <= MaxPerUser, "perUserLimit", $"From 1 to {MaxPerUser}.");
        validator.Require(request.ValidFrom is not null && request.ValidTo is not null && request.ValidTo > request.ValidFrom && request.ValidTo > now,
            "validTo", "A window that ends after it starts, in the future.");
        validator.Require(request.NewAccountCoolDownHours is null or (>= 0 and <= MaxCoolDownHours),
            "newAccountCoolDownHours", $"Hours an account must exist before it may claim, 0 (off) to {MaxCoolDownHours}.");
        var categories = new List<Guid>();
        validator.Require(request.CategoryIds is null || (request.CategoryIds.Count <= MaxCategories
            && request.CategoryIds.All(c => Guid.TryParse(c, out var id) && AddDistinct(categories, id))),
            "categoryIds", $"At most {MaxCategories} distinct category ids (none: every category).");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }
        var template = CouponTemplate.Create(ids.NewId(), request.Name!.Trim(), request.Kind!, request.Value!.Value, request.MaxDiscount,
            request.MinSpend ?? 0, request.TotalQuantity!.Value, request.PerUserLimit!.Value, request.ValidFrom!.Value, request.ValidTo!.Value,
            request.NewAccountCoolDownHours ?? 0, categories, request.Stackable ?? false, now);
        db.Templates.Add(template);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/admin/coupon-templates/{template.Id}", new TemplateCreated(template.Id.ToString()));
    }

    /// <summary>
    /// The abuse rules are asked first (<see cref="IRiskGate"/>: a refusal is 403 <c>risk_blocked</c>
    /// and no coupon is taken). Then a buyer's claims on one template take turns
    /// (<see cref="TransactionLocks"/>): the buyer's coupons are counted against the limit, then one
    /// conditional update takes a coupon from the template (<c>claimed &lt; total_quantity</c>), then
    /// the coupon and its <c>CouponClaimed</c> event are written — one transaction.
    /// </summary>
    private static async Task<Results<Created<CouponClaimed>, ProblemHttpResult>> Claim(
        ClaimRequest request, ClaimsPrincipal user, HttpContext http, CouponsDbContext db, IRiskGate risk, IIdGenerator ids, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(request.TemplateId, out var templateId))
        {
            return Problems.Validation("templateId", "A coupon template id is required.");
        }
        var deviceHeader = http.Request.Headers[DeviceIds.Header];
        var deviceId = deviceHeader.Count == 0 ? null : deviceHeader.ToString();
        if (deviceHeader.Count > 1 || (deviceId is not null && !DeviceIds.IsValid(deviceId)))
        {
            return Problems.Validation(DeviceIds.Header, $"1 to {DeviceIds.MaxLength} visible ASCII characters, one value.");
        }
        var now = clock.GetUtcNow();
        var template = await db.Templates.AsNoTracking().SingleOrDefaultAsync(t => t.Id == templateId, cancellationToken);
        if (template is null)
        {
            return Problems.NotFound("coupon template");
        }
        if (now < template.ValidFrom || now >= template.ValidTo)
        {
            CouponsTelemetry.Claim("not_claimable");
            return Problems.Conflict(NotClaimable, "This coupon cannot be claimed now.");
        }
        var buyer = user.UserId();
        var verdict = await risk.EvaluateCouponClaimAsync(
            new CouponClaimAttempt(buyer, deviceId, ClientAddress.Of(http), templateId, template.NewAccountCoolDown), cancellationToken);
        if (!verdict.Allowed)
        {
            CouponsTelemetry.Claim("risk_blocked");
            return RiskBlocked(verdict);
        }
        var owned = db.Database.CurrentTransaction is null;
        var transaction = db.Database.CurrentTransaction ?? await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            await TransactionLocks.TakeTurnAsync(db, $"coupon-claim:{buyer:N}:{templateId:N}", cancellationToken);
            var held = await db.Coupons.CountAsync(c => c.UserId == buyer && c.TemplateId == templateId, cancellationToken);
            if (held >= template.PerUserLimit)
            {
                CouponsTelemetry.Claim("limit_reached");
                return Problems.Conflict(LimitReached, $"At most {template.PerUserLimit} of this coupon per buyer.");
            }
            var taken = await db.Templates.Where(t => t.Id == templateId && t.Claimed < t.TotalQuantity)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.Claimed, t => t.Claimed + 1), cancellationToken);
            if (taken == 0)
            {
                CouponsTelemetry.Claim("exhausted");
                return Problems.Conflict(CouponsExhausted, "All of these coupons have been claimed.");
            }
            var coupon = Coupon.Claim(ids.NewId(), templateId, buyer, now);
            db.Coupons.Add(coupon);
            db.AddIntegrationEvent(coupon.Id.ToString(), new CouponClaimedEvent(coupon.Id, templateId, buyer, now), ids, clock);
            await db.SaveChangesAsync(cancellationToken);
            if (owned)
            {
                await transaction.CommitAsync(cancellationToken);
            }
            CouponsTelemetry.Claim("claimed");
            return TypedResults.Created($"/api/coupons/{coupon.Id}", new CouponClaimed(coupon.Id.ToString()));
        }
        finally
        {
            if (owned)
            {
                await transaction.DisposeAsync();
            }
        }
    }

    /// <summary>403 <c>risk_blocked</c>, naming the rule that refused (the decisions log has the rest).</summary>
    private static ProblemHttpResult RiskBlocked(RiskVerdict verdict)
    {
        var problem = Problems.Create(StatusCodes.Status403Forbidden, ProblemCodes.RiskBlocked, "Refused by abuse controls", verdict.Detail);
        problem.ProblemDetails.Extensions["rule"] = verdict.Rule;
        return problem;
    }

    private static async Task<Ok<PagedResponse<CouponView>>> Mine(
        PageRequest page, ClaimsPrincipal user, CouponsDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var buyer = user.UserId();
        var now = clock.GetUtcNow();
        var query = db.Coupons.AsNoTracking().Where(c => c.UserId == buyer)
            .Join(db.Templates, c => c.TemplateId, t => t.Id, (c, t) => new { Coupon = c, Template = t });
        var total = await query.CountAsync(cancellationToken);
        var rows = await query.OrderByDescending(x => x.Coupon.ClaimedAt).ThenByDescending(x => x.Coupon.Id)
            .Skip(page.Skip).Take(page.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResponse<CouponView>(
            [.. rows.Select(x => new CouponView(x.Coupon.Id.ToString(), x.Template.Id.ToString(), x.Template.Name, x.Template.Kind, x.Template.Value,
                x.Template.MaxDiscount, x.Template.MinSpend, x.Template.ValidFrom, x.Template.ValidTo,
                x.Coupon.Used ? CouponStatus.Used : now >= x.Template.ValidTo ? CouponStatus.Expired : CouponStatus.Unused, x.Coupon.ClaimedAt,
                [.. x.Template.CategoryIds.Select(c => c.ToString())], x.Template.Stackable))],
            total, page.Page, page.PageSize));
    }
}
