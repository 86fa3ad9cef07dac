using System.Security.Claims;
using FlashMall.Circle.Domain;
using FlashMall.Circle.Persistence;
using FlashMall.Contracts.Accounts;
using FlashMall.Contracts.Circle;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace FlashMall.Circle.Endpoints;

/// <summary>
/// Likes, comments, reports and follows. One like and one report per user and post, one follow
/// per pair: the store's keys decide, so a repeat (or a race of two) counts once and answers the same.
/// </summary>
internal static class InteractionEndpoints
{
    public static void MapInteractionEndpoints(this IEndpointRouteBuilder routes)
    {
        var posts = routes.MapGroup("/api/circle/posts/{id}").WithTags("Circle").NonCore();
        posts.MapPost("/likes", Like).RequireAuthorization().RefusedWhileReadOnly();
        posts.MapDelete("/likes", Unlike).RequireAuthorization().RefusedWhileReadOnly();
        posts.MapPost("/comments", AddComment).RequireAuthorization().RefusedWhileReadOnly();
        posts.MapGet("/comments", Comments).AllowAnonymous();
        posts.MapPost("/reports", ReportPost).RequireAuthorization().RefusedWhileReadOnly();

        var follows = routes.MapGroup("/api/circle/following").WithTags("Circle").NonCore().RequireAuthorization();
        follows.MapPut("/{userId}", FollowUser).RefusedWhileReadOnly();
        follows.MapDelete("/{userId}", Unfollow).RefusedWhileReadOnly();
    }

    private static async Task<Guid?> VisiblePostAsync(string id, CircleDbContext db, CancellationToken cancellationToken) =>
        Guid.TryParse(id, out var postId) && await db.Posts.AnyAsync(p => p.Id == postId && p.DeletedAt == null && !p.Hidden, cancellationToken)
            ? postId
            : null;

    /// <summary>Inserts a row keyed by the store; false when that key is already there.</summary>
    private static async Task<bool> TryInsertAsync(CircleDbContext db, object row, CancellationToken cancellationToken)
    {
        db.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            db.ChangeTracker.Clear();
            return false;
        }
    }

    private static async Task<Results<Ok<LikeView>, ProblemHttpResult>> Like(
        string id, ClaimsPrincipal user, CircleDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await VisiblePostAsync(id, db, cancellationToken) is not { } postId)
        {
            return Problems.NotFound("post");
        }
        if (await TryInsertAsync(db, new Like { PostId = postId, UserId = user.UserId(), At = clock.GetUtcNow() }, cancellationToken))
        {
            await db.Posts.Where(p => p.Id == postId).ExecuteUpdateAsync(s => s.SetProperty(p => p.Likes, p => p.Likes + 1), cancellationToken);
        }
        return TypedResults.Ok(new LikeView(true, await db.Posts.Where(p => p.Id == postId).Select(p => p.Likes).SingleAsync(cancellationToken)));
    }

    private static async Task<Results<Ok<LikeView>, ProblemHttpResult>> Unlike(
        string id, ClaimsPrincipal user, CircleDbContext db, CancellationToken cancellationToken)
    {
        if (await VisiblePostAsync(id, db, cancellationToken) is not { } postId)
        {
            return Problems.NotFound("post");
        }
        var me = user.UserId();
        if (await db.Likes.Where(l => l.PostId == postId && l.UserId == me).ExecuteDeleteAsync(cancellationToken) == 1)
        {
            await db.Posts.Where(p => p.Id == postId).ExecuteUpdateAsync(s => s.SetProperty(p => p.Likes, p => p.Likes - 1), cancellationToken);
        }
        return TypedResults.Ok(new LikeView(false, await db.Posts.Where(p => p.Id == postId).Select(p => p.Likes).SingleAsync(cancellationToken)));
    }

    private static async Task<Results<Created<CommentCreated>, ProblemHttpResult>> AddComment(
        string id, CommentRequest request, ClaimsPrincipal user, CircleDbContext db, IIdGenerator ids, TimeProvider clock, CancellationToken cancellationToken)
    {
        var validator = new Validator().RequiredText(request.Text, "text", Comment.MaxTextLength);
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }
        if (await VisiblePostAsync(id, db, cancellationToken) is not { } postId)
        {
            return Problems.NotFound("post");
        }
        var comment = new Comment { Id = ids.NewId(), PostId = postId, AuthorId = user.UserId(), Text = request.Text!, CreatedAt = clock.GetUtcNow() };
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Comments.Add(comment);
        await db.SaveChangesAsync(cancellationToken);
        await db.Posts.Where(p => p.Id == postId).ExecuteUpdateAsync(s => s.SetProperty(p => p.Comments, p => p.Comments + 1), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"/api/circle/posts/{postId}/comments", new CommentCreated(comment.Id.ToString()));
    }

    private static async Task<Results<Ok<PagedResponse<CommentView>>, ProblemHttpResult>> Comments(
        string id, PageRequest page, CircleDbContext db, CancellationToken cancellationToken)
    {
        if (await VisiblePostAsync(id, db, cancellationToken) is not { } postId)
        {
            return Problems.NotFound("post");
        }
        var query = db.Comments.AsNoTracking().Where(c => c.PostId == postId);
        var total = await query.CountAsync(cancellationToken);
        var rows = await query.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Skip(page.Skip).Take(page.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResponse<CommentView>(
            [.. rows.Select(c => new CommentView(c.Id.ToString(), c.AuthorId.ToString(), c.Text, c.CreatedAt))], total, page.Page, page.PageSize));
    }

    /// <summary>
    /// One report per user counts; at <c>Circle:HideAfterReports</c> distinct reports the post is
    /// hidden pending review (one conditional update decides, so it is hidden and announced once).
    /// </summary>
    private static async Task<Results<Ok<ReportView>, ProblemHttpResult>> ReportPost(
        string id, ReportRequest? request, ClaimsPrincipal user, CircleDbContext db, IOptionsMonitor<CircleOptions> options, IIdGenerator ids,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var validator = new Validator().OptionalText(request?.Reason, "reason", Report.MaxReasonLength);
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }
        if (await VisiblePostAsync(id, db, cancellationToken) is not { } postId)
        {
            return Problems.NotFound("post");
        }
        var now = clock.GetUtcNow();
        if (await TryInsertAsync(db, new Report { PostId = postId, UserId = user.UserId(), Reason = request?.Reason ?? "", At = now }, cancellationToken))
        {
            var threshold = options.CurrentValue.HideAfterReports;
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.Posts.Where(p => p.Id == postId).ExecuteUpdateAsync(s => s.SetProperty(p => p.Reports, p => p.Reports + 1), cancellationToken);
            if (await db.Posts.Where(p => p.Id == postId && !p.Hidden && p.Reports >= threshold)
                    .ExecuteUpdateAsync(s => s.SetProperty(p => p.Hidden, true), cancellationToken) == 1)
            {
                db.AddIntegrationEvent(postId.ToString(), new PostHidden(postId, threshold, now), ids, clock);
                await db.SaveChangesAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        return TypedResults.Ok(new ReportView(true));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> FollowUser(
        string userId, ClaimsPrincipal user, IAccountDirectory accounts, CircleDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var me = user.UserId();
        if (!Guid.TryParse(userId, out var followee) || await accounts.CreatedAtAsync(followee, cancellationToken) is null)
        {
            return Problems.NotFound("user");
        }
        if (followee == me)
        {
            return Problems.Validation("userId", "You cannot follow yourself.");
        }
        await TryInsertAsync(db, new Follow { FollowerId = me, FolloweeId = followee, At = clock.GetUtcNow() }, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> Unfollow(string userId, ClaimsPrincipal user, CircleDbContext db, CancellationToken cancellationToken)
    {
        var me = user.UserId();
        if (Guid.TryParse(userId, out var followee))
        {
            await db.Follows.Where(f => f.FollowerId == me && f.FolloweeId == followee).ExecuteDeleteAsync(cancellationToken);
        }
        return TypedResults.NoContent();
    }
}
