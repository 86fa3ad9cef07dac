using System.Security.Claims;
using FlashMall.Accounts.Persistence;
using FlashMall.Kernel.Http;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.Accounts.Security;

/// <summary>
/// A token that carries more than the buyer role is checked against the store on every request:
/// a removed role stops working at once, not when the token expires. Buyers' tokens (the hot
/// path) are never looked up. Malformed subjects are refused.
/// </summary>
internal static class PrivilegedRoles
{
    public static Task CheckStillHeldAsync(TokenValidatedContext context)
    {
        var (userId, claimed) = Read(context.Principal!);
        if (userId is null)
        {
            context.Fail("The token has no valid subject.");
            return Task.CompletedTask;
        }
        return claimed is null ? Task.CompletedTask : CheckInStoreAsync(context, userId.Value, claimed);
    }

    /// <summary>A buyer's token: a valid subject and no role the store would be asked about (the purchase's hot path may know it without the handler).</summary>
    public static bool IsBuyerOnly(ClaimsPrincipal principal) => Read(principal) is ({ }, null);

    /// <summary>
    /// The token's subject (null: not a valid user id) and the roles it claims beyond the buyer's
    /// (null: none). A buyer's token (every purchase) costs one pass over its claims and nothing else.
    /// </summary>
    private static (Guid? UserId, HashSet<string>? Claimed) Read(ClaimsPrincipal principal)
    {
        if (!Guid.TryParse(principal.UserIdValue(), out var userId))
        {
            return (null, null);
        }
        HashSet<string>? claimed = null;
        foreach (var claim in principal.Claims)
        {
            if (claim.Type == FlashMallClaims.Role && claim.Value != Roles.Buyer)
            {
                (claimed ??= new HashSet<string>(StringComparer.Ordinal)).Add(claim.Value);
            }
        }
        return (userId, claimed);
    }

    private static async Task CheckInStoreAsync(TokenValidatedContext context, Guid userId, HashSet<string> claimed)
    {
        var db = context.HttpContext.RequestServices.GetRequiredService<AccountsDbContext>();
        var current = await db.Users.Where(u => u.Id == userId).Select(u => u.Roles).SingleOrDefaultAsync(context.HttpContext.RequestAborted);
        if (current is null || !claimed.IsSubsetOf(current.Split(',', StringSplitOptions.RemoveEmptyEntries)))
        {
            context.Fail("The token's roles are no longer held.");
        }
    }
}
