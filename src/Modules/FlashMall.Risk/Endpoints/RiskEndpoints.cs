using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using FlashMall.Risk.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Risk.Endpoints;

internal sealed record DecisionView(
    string Id, DateTimeOffset At, string Action, string Rule, string? UserId, string? DeviceId, string? Ip, string? Subject, string Detail);

/// <summary>Operators read the decisions log: every refusal by an abuse rule, newest first.</summary>
internal static class RiskEndpoints
{
    public static void MapRiskEndpoints(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/api/admin/risk").WithTags("Risk admin").NonCore().RequireAuthorization(Policies.Operator);
        admin.MapGet("/decisions", Decisions);
    }

    private static async Task<Results<Ok<PagedResponse<DecisionView>>, ProblemHttpResult>> Decisions(
        PageRequest page, string? rule, string? userId, RiskDbContext db, CancellationToken cancellationToken)
    {
        var validator = new Validator();
        validator.Require(rule is null || rule.Length is > 0 and <= 32, "rule", "A rule name, e.g. device_velocity.");
        Guid? user = null;
        if (userId is not null)
        {
            validator.Require(Guid.TryParse(userId, out var parsed), "userId", "A user id.");
            user = parsed;
        }
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }
        var query = db.Decisions.AsNoTracking();
        if (rule is not null)
        {
            query = query.Where(d => d.Rule == rule);
        }
        if (user is not null)
        {
            query = query.Where(d => d.UserId == user);
        }
        var total = await query.CountAsync(cancellationToken);
        var rows = await query.OrderByDescending(d => d.At).ThenByDescending(d => d.Id)
            .Skip(page.Skip).Take(page.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResponse<DecisionView>(
            [.. rows.Select(d => new DecisionView(d.Id.ToString(), d.At, d.Action, d.Rule, d.UserId?.ToString(), d.DeviceId, d.Ip, d.Subject, d.Detail))],
            total, page.Page, page.PageSize));
    }
}
