using System.Security.Claims;
using FlashMall.Circle.Domain;
using FlashMall.Circle.Persistence;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Circle.Endpoints;

/// <summary>
/// The feed, newest first, paged two ways. Page numbers (<c>page</c>) count from a snapshot:
/// page 1 answers <c>before</c>, the position of the newest post it saw, and later pages sent
/// with it count only posts at or below it, so posts arriving meanwhile never push a post
/// from one page onto the next. A cursor (<c>cursor</c>, from <c>nextCursor</c>) continues
/// strictly after a post, for infinite scrolling. Both feeds read from a replica when one is
/// within <c>Database:MaxReplicaLag</c> (a post or follow shows up that much later at most).
/// </summary>
internal static class FeedEndpoints
{
    public static void MapFeedEndpoints(this IEndpointRouteBuilder routes)
    {
        var feed = routes.MapGroup("/api/circle/feed").WithTags("Circle").NonCore();
        feed.MapGet("/", Everyone).AllowAnonymous();
        feed.MapGet("/following", Following).RequireAuthorization();
    }

    private static Task<Results<Ok<FeedPage>, ProblemHttpResult>> Everyone(
        PageRequest page, string? before, string? cursor, ReadReplica<CircleDbContext> replica, CancellationToken cancellationToken) =>
        PageAsync(Visible(replica.Db), page, before, cursor, cancellationToken);

    private static Task<Results<Ok<FeedPage>, ProblemHttpResult>> Following(
        PageRequest page, string? before, string? cursor, ClaimsPrincipal user, ReadReplica<CircleDbContext> replica, CancellationToken cancellationToken)
    {
        var me = user.UserId();
        var db = replica.Db;
        var followed = db.Follows.Where(f => f.FollowerId == me).Select(f => f.FolloweeId);
        return PageAsync(Visible(db).Where(p => followed.Contains(p.AuthorId)), page, before, cursor, cancellationToken);
    }

    private static IQueryable<Post> Visible(CircleDbContext db) => db.Posts.AsNoTracking().Where(p => p.DeletedAt == null && !p.Hidden);

    private static async Task<Results<Ok<FeedPage>, ProblemHttpResult>> PageAsync(
        IQueryable<Post> posts, PageRequest page, string? before, string? cursor, CancellationToken cancellationToken)
    {
        var validator = new Validator();
        validator.Require(before is null || SortKeys.IsValid(before), "before", "The before value of an earlier page.");
        validator.Require(cursor is null || SortKeys.IsValid(cursor), "cursor", "A nextCursor from an earlier page.");
        validator.Require(cursor is null || (before is null && page.Page == 1), "cursor", "Page either by cursor or by page and before, not both.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }
        List<Post> rows;
        int total;
        if (cursor is not null)
        {
            var after = posts.Where(p => string.Compare(p.SortKey, cursor) < 0);
            total = await after.CountAsync(cancellationToken);
            rows = await after.OrderByDescending(p => p.SortKey).Take(page.PageSize + 1).ToListAsync(cancellationToken);
        }
        else
        {
            before ??= await posts.OrderByDescending(p => p.SortKey).Select(p => p.SortKey).FirstOrDefaultAsync(cancellationToken);
            if (before is null)
            {
                return TypedResults.Ok(new FeedPage([], 0, page.Page, page.PageSize, null, null));
            }
            var snapshot = posts.Where(p => string.Compare(p.SortKey, before) <= 0);
            total = await snapshot.CountAsync(cancellationToken);
            rows = await snapshot.OrderByDescending(p => p.SortKey).Skip(page.Skip).Take(page.PageSize + 1).ToListAsync(cancellationToken);
        }
        var more = rows.Count > page.PageSize;
        var items = rows.Take(page.PageSize).Select(PostView.Of).ToList();
        return TypedResults.Ok(new FeedPage(items, total, page.Page, page.PageSize, before, more ? items[^1].Cursor : null));
    }
}
