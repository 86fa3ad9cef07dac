using System.Security.Claims;

namespace FlashMall.Kernel.Http;

public static class Roles
{
    public const string Buyer = "buyer";
    public const string Merchandiser = "merchandiser";
    public const string Operator = "operator";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Buyer, Merchandiser, Operator, Admin];
}

/// <summary>Authorization policy names shared by all modules (defined once in the Accounts module).</summary>
public static class Policies
{
    public const string Merchandiser = "merchandiser";
    public const string Operator = "operator";
    public const string Admin = "admin";
}

public static class ClaimsPrincipalExtensions
{
    /// <summary>The signed-in user's id. Only call on endpoints that require authorization.</summary>
    public static Guid UserId(this ClaimsPrincipal user) =>
        Guid.Parse(user.UserIdValue() ?? throw new InvalidOperationException("No user id claim: the endpoint must require authorization."));

    /// <summary>
    /// The user id claim's value, or null: the first identity's that has one, found by the
    /// identity's own <c>FindFirst</c> (no predicate allocated per call, as the principal's
    /// <c>FindFirst</c> does; it is read several times by every signed-in request).
    /// </summary>
    public static string? UserIdValue(this ClaimsPrincipal user)
    {
        foreach (var identity in user.Identities)
        {
            if (identity.FindFirst(FlashMallClaims.UserId) is { } claim)
            {
                return claim.Value;
            }
        }
        return null;
    }
}
