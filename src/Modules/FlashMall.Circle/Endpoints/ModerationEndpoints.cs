using FlashMall.Circle.Persistence;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Circle.Endpoints;

internal sealed record HiddenPostView(PostView Post, int Reports, IReadOnlyList<string> Reasons);

/// <summary>
/// Operators review posts hidden by reports: list them with the reporters' reasons, and restore
/// one (visible again, its report count back to 0; its earlier reporters cannot report it again).
/// Removing it for good is <c>DELETE /api/circle/posts/{id}</c>.
/// </summary>
internal static class ModerationEndpoints
{
    public static void MapModerationEndpoints(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/api/admin/circle").WithTags("Circle admin").NonCore().RequireAuthorization(Policies.Operator);
        admin.MapGet("/hidden", Hidden);
        admin.MapPost("/posts/{id}/restore", Restore).RefusedWhileReadOnly();
    }

    private static async Task<Ok<PagedResponse<HiddenPostView>>> Hidden(PageRequest page, CircleDbContext db, CancellationToken cancellationToken)
    {
        var query = db.Posts.AsNoTracking().Where(p => p.Hidden && p.DeletedAt == null);
        var total = await query.CountAsync(cancellationToken);
        var posts = await query.OrderByDescending(p => p.SortKey).Skip(page.Skip).Take(page.PageSize).ToListAsync(cancellationToken);
        var ids = posts.Select(p => p.Id).ToList();
        var reasons = (await db.Reports.AsNoTracking().Where(r => ids.Contains(r.PostId) && r.Reason != "")
                .Select(r => new { r.PostId, r.Reason }).ToListAsync(cancellationToken))
            .ToLookup(r => r.PostId, r => r.Reason);
        return TypedResults.Ok(new PagedResponse<HiddenPostView>(
            [.. posts.Select(p => new HiddenPostView(PostView.Of(p), p.Reports, [.. reasons[p.Id].Distinct()]))], total, page.Page, page.PageSize));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Restore(string id, CircleDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var postId)
            || await db.Posts.Where(p => p.Id == postId && p.Hidden && p.DeletedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.Hidden, false).SetProperty(p => p.Reports, 0), cancellationToken) == 0)
        {
            return Problems.NotFound("hidden post");
        }
        return TypedResults.NoContent();
    }
}
