using System.Collections.Concurrent;
using System.Security.Claims;
using FlashMall.Kernel.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FlashMall.Accounts.Security;

/// <summary>
/// The access-token validator: <see cref="JsonWebTokenHandler"/>'s full checks, remembered per
/// token until the token expires, so a buyer's app sending many requests with one token (a sale
/// night: list, detail, purchase, poll, poll) pays for the signature and the parsing once —
/// the largest single cost of a purchase otherwise. Only valid tokens are remembered; a hit
/// after the token's <c>exp</c> is dropped and validated afresh (and fails); each hit gets its
/// own copy of the identity. At most <see cref="MaxEntries"/> tokens are held; when full, the
/// memory starts over. Role changes are unaffected: privileged roles are re-checked against the
/// store on every request (<see cref="PrivilegedRoles"/>), after this.
/// <para>
/// A remembered token that carries only the buyer role and a valid subject — one the store is never
/// asked about — also has a principal of its own, which <see cref="RememberedBuyer"/> hands to the
/// purchase's hot path (<see cref="RememberedBuyerTokens"/>): the same answer the bearer handler
/// would give, without the handler.
/// </para>
/// </summary>
internal sealed class CachingTokenHandler : JsonWebTokenHandler
{
    /// <summary>About 4 KB each (token, identity, parsed token, the validation's result; measured with dotnet-gcdump, BENCHMARKS.md): at most about 400 MB.</summary>
    public const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, Remembered> _validated = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Remembered>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly TimeProvider _clock;
    private int _entries;

    public CachingTokenHandler(TimeProvider clock)
    {
        _clock = clock;
        _bySpan = _validated.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <param name="Result">The full validation's answer; each hit gets a copy of its identity.</param>
    /// <param name="ValidTo">The token's <c>exp</c>.</param>
    /// <param name="Buyer">For a buyer's token (see the class), a principal over the remembered identity; null for any other.</param>
    private sealed record Remembered(TokenValidationResult Result, DateTime ValidTo, ClaimsPrincipal? Buyer);

    /// <summary>
    /// The principal of a remembered, unexpired buyer's token (shared: read it, never change it);
    /// null for a token not remembered, expired or carrying more than the buyer role.
    /// </summary>
    public ClaimsPrincipal? RememberedBuyer(ReadOnlySpan<char> token) =>
        _bySpan.TryGetValue(token, out var known) && known.ValidTo > _clock.GetUtcNow().UtcDateTime ? known.Buyer : null;

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (_validated.TryGetValue(token, out var known))
        {
            if (known.ValidTo > _clock.GetUtcNow().UtcDateTime)
            {
                return new TokenValidationResult
                {
                    IsValid = true,
                    ClaimsIdentity = known.Result.ClaimsIdentity.Clone(),
                    SecurityToken = known.Result.SecurityToken,
                    TokenType = known.Result.TokenType,
                    Issuer = known.Result.Issuer,
                };
            }
            _validated.TryRemove(token, out _);
        }
        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is JsonWebToken validated)
        {
            // ConcurrentDictionary.Count takes every lock: keep an approximate count instead.
            if (Interlocked.Increment(ref _entries) > MaxEntries)
            {
                _validated.Clear();
                Interlocked.Exchange(ref _entries, 0);
            }
            var principal = new RememberedPrincipal(result.ClaimsIdentity);
            _validated[token] = new Remembered(result, validated.ValidTo, PrivilegedRoles.IsBuyerOnly(principal) ? principal : null);
            result = new TokenValidationResult
            {
                IsValid = true,
                ClaimsIdentity = result.ClaimsIdentity.Clone(),
                SecurityToken = result.SecurityToken,
                TokenType = result.TokenType,
                Issuer = result.Issuer,
            };
        }
        return result;
    }
}
