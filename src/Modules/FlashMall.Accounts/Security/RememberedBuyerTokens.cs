using System.Security.Claims;
using FlashMall.Kernel.Http;
using Microsoft.AspNetCore.Http;

namespace FlashMall.Accounts.Security;

/// <summary>
/// The hot paths' authenticator: a request whose bearer token <see cref="CachingTokenHandler"/>
/// has validated in full, that has not expired and that carries only the buyer role is that buyer's,
/// without the bearer handler (its per-request options, events, ticket and identity copy are most of
/// what authenticating a purchase costs). Any other request — no token, a token not seen yet,
/// expired, privileged, several Authorization headers — is left to the handler, which answers it as
/// always and remembers a good token for the next request.
/// </summary>
internal sealed class RememberedBuyerTokens(CachingTokenHandler tokens) : IHotPathAuthenticator
{
    private const string Scheme = "Bearer ";

    public ClaimsPrincipal? TryAuthenticate(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization;
        if (authorization.Count != 1 || authorization[0] is not { } header || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        // The handler's own reading: what follows the scheme, trimmed.
        return header.AsSpan(Scheme.Length).Trim() is { IsEmpty: false } token ? tokens.RememberedBuyer(token) : null;
    }
}
