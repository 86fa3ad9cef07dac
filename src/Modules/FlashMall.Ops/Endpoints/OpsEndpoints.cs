using System.Security.Claims;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using FlashMall.Ops.Domain;
using FlashMall.Ops.Persistence;
using FlashMall.Ops.Switches;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Ops.Endpoints;

internal sealed record SwitchView(string Name, bool Enabled, string Description, DateTimeOffset UpdatedAt, string UpdatedBy)
{
    public static SwitchView Of(Switch s) => new(s.Name, s.Enabled, s.Description, s.UpdatedAt, s.UpdatedBy);
}

/// <summary><c>emergency: true</c> applies at once even where approval is required (a reason is always required).</summary>
internal sealed record SwitchChangeRequest(bool? Enabled, string? Reason, bool? Emergency = null);

internal sealed record ChangeAccepted(string ChangeId);

/// <summary>The answer to an applied change: the switch, plus the change and whether it still awaits approval.</summary>
internal sealed record SwitchApplied(
    string Name, bool Enabled, string Description, DateTimeOffset UpdatedAt, string UpdatedBy, string ChangeId, bool Emergency, bool Unapproved)
{
    public static SwitchApplied Of(Switch s, SwitchChange c) =>
        new(s.Name, s.Enabled, s.Description, s.UpdatedAt, s.UpdatedBy, c.Id.ToString(), c.Emergency, c.AwaitsApproval);
}

/// <summary>
/// A change and where it stands: <c>approval</c> is <c>pending</c> (waits, not applied), <c>unapproved</c>
/// (an emergency change applied before its approval), <c>approved</c>, or <c>not_required</c>.
/// </summary>
internal sealed record ChangeView(
    string Id, string Switch, bool Enabled, string Reason, string Status, bool Emergency, string Approval,
    string RequestedBy, DateTimeOffset RequestedAt, string? ApprovedBy, DateTimeOffset? AppliedAt)
{
    public static ChangeView Of(SwitchChange c) => new(
        c.Id.ToString(), c.Switch, c.Enabled, c.Reason, c.Status, c.Emergency,
        c.Status == SwitchChange.Pending ? "pending" : c.ApprovedBy is not null ? "approved" : c.Emergency ? "unapproved" : "not_required",
        c.RequestedBy.ToString(), c.RequestedAt, c.ApprovedBy?.ToString(), c.AppliedAt);
}

internal sealed record AuditView(
    string Id, DateTimeOffset At, string Action, string Switch, bool Before, bool After, string Reason,
    string Actor, string ChangeId, string RequestedBy, string? ApprovedBy, bool Emergency);

internal static class OpsProblemCodes
{
    /// <summary>403: the operator who requested a change cannot approve it.</summary>
    public const string ApprovalByRequester = "approval_by_requester";

    /// <summary>409: the change was already applied (and, for an emergency change, already approved).</summary>
    public const string ChangeNotPending = "change_not_pending";

    /// <summary>400: <c>status</c> of the changes list is not pending, unapproved, awaiting or all.</summary>
    public const string InvalidStatus = "invalid_status";
}

/// <summary>
/// Operators read and flip the runtime switches. Where approval is required (Production, or
/// <c>Ops:RequireApproval=true</c>) a change waits for a different operator; every request and
/// every application is a line in the audit. Never tagged non-core: shedding must stay undoable.
/// </summary>
internal static class OpsEndpoints
{
    public static void MapOpsEndpoints(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/api/admin").WithTags("Ops admin").Core().RequireAuthorization(Policies.Operator);
        admin.MapGet("/switches", List);
        admin.MapPut("/switches/{name}", Change);
        admin.MapPost("/changes/{changeId}/approve", Approve);
        admin.MapGet("/changes", Changes);
        admin.MapGet("/audit", Audit);
    }

    private static async Task<Ok<SwitchView[]>> List(OpsDbContext db, CancellationToken cancellationToken)
    {
        var switches = await db.Switches.AsNoTracking().OrderBy(s => s.Name).ToListAsync(cancellationToken);
        return TypedResults.Ok(switches.Select(SwitchView.Of).ToArray());
    }

    private static async Task<Results<Ok<SwitchApplied>, Accepted<ChangeAccepted>, ProblemHttpResult>> Change(
        string name, SwitchChangeRequest body, ClaimsPrincipal user, OpsDbContext db, OpsApproval approval,
        SwitchSnapshot snapshot, ISwitchSignal signal, IIdGenerator ids, TimeProvider clock, CancellationToken cancellationToken)
    {
        var validator = new Validator();
        validator.Require(body.Enabled is not null, "enabled", "true or false.");
        validator.Require(!string.IsNullOrWhiteSpace(body.Reason), "reason", "Why: required.");
        validator.Require(body.Reason is null || body.Reason.Length <= SwitchChange.MaxReasonLength, "reason", $"At most {SwitchChange.MaxReasonLength} characters.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }
        var target = await db.Switches.SingleOrDefaultAsync(s => s.Name == name, cancellationToken);
        if (target is null)
        {
            return Problems.NotFound("switch");
        }
        var me = user.UserId();
        var now = clock.GetUtcNow();
        var emergency = body.Emergency == true;
        var change = SwitchChange.Request(ids.NewId(), target.Name, body.Enabled!.Value, body.Reason!.Trim(), me, now, emergency);
        db.Changes.Add(change);
        db.Audit.Add(AuditEntry.Of(ids.NewId(), AuditEntry.Requested, change, target.Enabled, me, now));
        if (approval.Required && !emergency)
        {
            await db.SaveChangesAsync(cancellationToken);
            return TypedResults.Accepted((string?)null, new ChangeAccepted(change.Id.ToString()));
        }
        var before = target.Enabled;
        change.Apply(approvedBy: null, now);
        target.Set(change.Enabled, me.ToString(), now);
        db.Audit.Add(AuditEntry.Of(ids.NewId(), AuditEntry.Applied, change, before, me, now));
        await db.SaveChangesAsync(cancellationToken);
        await AnnounceAsync(snapshot, signal, cancellationToken);
        return TypedResults.Ok(SwitchApplied.Of(target, change));
    }

    private static async Task<Results<Ok<SwitchApplied>, ProblemHttpResult>> Approve(
        string changeId, ClaimsPrincipal user, OpsDbContext db, SwitchSnapshot snapshot, ISwitchSignal signal,
        IIdGenerator ids, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(changeId, out var id) || await db.Changes.SingleOrDefaultAsync(c => c.Id == id, cancellationToken) is not { } change)
        {
            return Problems.NotFound("change");
        }
        if (!change.AwaitsApproval)
        {
            return Problems.Conflict(OpsProblemCodes.ChangeNotPending, "This change was already applied.");
        }
        var me = user.UserId();
        if (change.RequestedBy == me)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, OpsProblemCodes.ApprovalByRequester, "Forbidden",
                "A change needs a second operator: the one who requested it cannot approve it.");
        }
        var target = await db.Switches.SingleAsync(s => s.Name == change.Switch, cancellationToken);
        var now = clock.GetUtcNow();
        if (change.Status == SwitchChange.Applied)
        {
            // An emergency change, applied already: the approval is recorded, the switch stays as it is.
            change.ApproveAfterwards(me);
            db.Audit.Add(AuditEntry.Of(ids.NewId(), AuditEntry.Approved, change, target.Enabled, me, now));
            await db.SaveChangesAsync(cancellationToken);
            return TypedResults.Ok(SwitchApplied.Of(target, change));
        }
        var before = target.Enabled;
        change.Apply(me, now);
        target.Set(change.Enabled, me.ToString(), now);
        db.Audit.Add(AuditEntry.Of(ids.NewId(), AuditEntry.Applied, change, before, me, now));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.Conflict(OpsProblemCodes.ChangeNotPending, "This change was applied by another approval.");
        }
        await AnnounceAsync(snapshot, signal, cancellationToken);
        return TypedResults.Ok(SwitchApplied.Of(target, change));
    }

    /// <summary>
    /// Changes, newest first: <c>status=pending</c> (waiting, not applied), <c>unapproved</c> (emergency
    /// changes applied before approval), <c>awaiting</c> (both: what a second operator must look at), or <c>all</c> (default).
    /// </summary>
    private static async Task<Results<Ok<PagedResponse<ChangeView>>, ProblemHttpResult>> Changes(
        string? status, PageRequest page, OpsDbContext db, CancellationToken cancellationToken)
    {
        IQueryable<SwitchChange> query = db.Changes.AsNoTracking();
        switch (status ?? "all")
        {
            case "pending":
                query = query.Where(c => c.Status == SwitchChange.Pending);
                break;
            case "unapproved":
                query = query.Where(c => c.Status == SwitchChange.Applied && c.Emergency && c.ApprovedBy == null);
                break;
            case "awaiting":
                query = query.Where(c => c.Status == SwitchChange.Pending || (c.Emergency && c.ApprovedBy == null));
                break;
            case "all":
                break;
            default:
                return Problems.Create(StatusCodes.Status400BadRequest, OpsProblemCodes.InvalidStatus, "Bad request",
                    "status must be pending, unapproved, awaiting or all.");
        }
        var total = await query.CountAsync(cancellationToken);
        var rows = await query.OrderByDescending(c => c.RequestedAt).ThenByDescending(c => c.Id)
            .Skip(page.Skip).Take(page.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResponse<ChangeView>([.. rows.Select(ChangeView.Of)], total, page.Page, page.PageSize));
    }

    private static async Task<Ok<PagedResponse<AuditView>>> Audit(PageRequest page, OpsDbContext db, CancellationToken cancellationToken)
    {
        var total = await db.Audit.CountAsync(cancellationToken);
        var rows = await db.Audit.AsNoTracking().OrderByDescending(a => a.At).ThenByDescending(a => a.Id)
            .Skip(page.Skip).Take(page.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResponse<AuditView>(
            [.. rows.Select(a => new AuditView(a.Id.ToString(), a.At, a.Action, a.Switch, a.Before, a.After, a.Reason,
                a.Actor.ToString(), a.ChangeId.ToString(), a.RequestedBy.ToString(), a.ApprovedBy?.ToString(), a.Emergency))],
            total, page.Page, page.PageSize));
    }

    /// <summary>After the commit: this node at once, the others through the signal (or their next poll).</summary>
    private static async Task AnnounceAsync(SwitchSnapshot snapshot, ISwitchSignal signal, CancellationToken cancellationToken)
    {
        await snapshot.ReloadAsync(cancellationToken);
        await signal.PublishAsync(cancellationToken);
    }
}
