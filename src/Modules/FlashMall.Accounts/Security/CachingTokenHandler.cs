using System.Collections.Concurrent;
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
/// </summary>
internal sealed class CachingTokenHandler(TimeProvider clock) : JsonWebTokenHandler
{
    /// <summary>About 2–3 KB each (token, identity, parsed token): at most a few hundred MB.</summary>
    public const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, (TokenValidationResult Result, DateTime ValidTo)> _validated = new(StringComparer.Ordinal);
    private int _entries;

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (_validated.TryGetValue(token, out var known))
        {
            if (known.ValidTo > clock.GetUtcNow().UtcDateTime)
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
            _validated[token] = (result, validated.ValidTo);
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
