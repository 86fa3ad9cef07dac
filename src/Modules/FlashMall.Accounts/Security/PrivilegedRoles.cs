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
    public static async Task CheckStillHeldAsync(TokenValidatedContext context)
    {
        var principal = context.Principal!;
        if (!Guid.TryParse(principal.FindFirst(FlashMallClaims.UserId)?.Value, out var userId))
        {
            context.Fail("The token has no valid subject.");
            return;
        }
        var claimed = principal.FindAll(FlashMallClaims.Role).Select(c => c.Value).Where(r => r != Roles.Buyer).ToHashSet(StringComparer.Ordinal);
        if (claimed.Count == 0)
        {
            return;
        }
        var db = context.HttpContext.RequestServices.GetRequiredService<AccountsDbContext>();
        var current = await db.Users.Where(u => u.Id == userId).Select(u => u.Roles).SingleOrDefaultAsync(context.HttpContext.RequestAborted);
        if (current is null || !claimed.IsSubsetOf(current.Split(',', StringSplitOptions.RemoveEmptyEntries)))
        {
            context.Fail("The token's roles are no longer held.");
        }
    }
}
