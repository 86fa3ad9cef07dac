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
        user is RememberedPrincipal { UserId: { } remembered } ? remembered
            : Guid.Parse(user.UserIdValue() ?? throw new InvalidOperationException("No user id claim: the endpoint must require authorization."));

    /// <summary>
    /// The user id claim's value, or null: the first identity's that has one, found by the
    /// identity's own <c>FindFirst</c> (no predicate allocated per call, as the principal's
    /// <c>FindFirst</c> does; it is read several times by every signed-in request). A
    /// <see cref="RememberedPrincipal"/> read it once.
    /// </summary>
    public static string? UserIdValue(this ClaimsPrincipal user) =>
        user is RememberedPrincipal remembered ? remembered.UserIdValue : FindUserIdValue(user);

    internal static string? FindUserIdValue(ClaimsPrincipal user)
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

/// <summary>
/// A principal read once from a token and reused for every request that token makes (the hot
/// path's remembered buyers): its user id is read once too, not per request (each look at a
/// token's identity allocates a predicate and an enumerator).
/// </summary>
public sealed class RememberedPrincipal : ClaimsPrincipal
{
    public RememberedPrincipal(ClaimsIdentity identity)
        : base(identity)
    {
        UserIdValue = ClaimsPrincipalExtensions.FindUserIdValue(this);
        UserId = Guid.TryParse(UserIdValue, out var id) ? id : null;
    }

    public string? UserIdValue { get; }

    public Guid? UserId { get; }
}
