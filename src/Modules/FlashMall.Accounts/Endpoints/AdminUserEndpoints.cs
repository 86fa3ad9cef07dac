using FlashMall.Accounts.Domain;
using FlashMall.Accounts.Persistence;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace FlashMall.Accounts.Endpoints;

internal sealed record SetRolesRequest(IReadOnlyList<string>? Roles);
internal sealed record RolesResponse(string UserId, IReadOnlyList<string> Roles);

internal static partial class AdminUserEndpoints
{
    public const string LastAdmin = "last_admin";

    public static void MapAdminUserEndpoints(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/api/admin/users").WithTags("Accounts admin").NonCore().RequireAuthorization(Policies.Admin);
        admin.MapPost("/{userId}/roles", SetRoles);
    }

    /// <summary>
    /// Replaces the user's roles (buyer is always kept). A removed role stops working at once
    /// (privileged tokens are checked against the store) and the user's refresh tokens are revoked.
    /// </summary>
    private static async Task<Results<Ok<RolesResponse>, ProblemHttpResult>> SetRoles(
        string userId, SetRolesRequest request, HttpContext http, AccountsDbContext db, TimeProvider clock, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var roles = request.Roles ?? [];
        var validation = new Validator()
            .Require(request.Roles is not null, "roles", "Required.")
            .Require(roles.Count <= Roles.All.Count, "roles", "Too many roles.")
            .Require(roles.All(r => r is not null && User.IsKnownRole(r)), "roles", $"Each role must be one of: {string.Join(", ", Roles.All)}.");
        if (!validation.IsValid)
        {
            return validation.ToProblem();
        }
        if (!Guid.TryParse(userId, out var id))
        {
            return Problems.NotFound("user");
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return Problems.NotFound("user");
        }
        var before = user.Roles;
        user.SetRoles(roles);
        if (before.Split(',').Contains(Roles.Admin) && !user.RoleList.Contains(Roles.Admin)
            && await db.Users.CountAsync(u => u.Roles.Contains(Roles.Admin), cancellationToken) <= 1)
        {
            return Problems.Conflict(LastAdmin, "This is the last admin account; grant admin to another account first.");
        }
        await db.SaveChangesAsync(cancellationToken);
        // Sessions started under the old roles end; the user signs in again to get the new ones.
        var now = clock.GetUtcNow();
        await db.RefreshTokens.Where(t => t.UserId == user.Id && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), CancellationToken.None);
        LogRolesChanged(loggers.CreateLogger(typeof(AdminUserEndpoints)), http.User.UserId(), user.Id, before, user.Roles);
        return TypedResults.Ok(new RolesResponse(user.Id.ToString(), user.RoleList));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin {AdminId} changed roles of {UserId} from {Before} to {After}")]
    private static partial void LogRolesChanged(ILogger logger, Guid adminId, Guid userId, string before, string after);
}
