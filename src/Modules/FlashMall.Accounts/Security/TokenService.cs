using System.Security.Cryptography;
using FlashMall.Accounts.Domain;
using FlashMall.Kernel.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FlashMall.Accounts.Security;

internal sealed record IssuedTokens(string AccessToken, string RefreshToken, int ExpiresIn);

/// <summary>Issues short-lived JWT access tokens and opaque refresh tokens (stored only as SHA-256).</summary>
internal sealed class TokenService(JwtOptions options, SymmetricSecurityKey signingKey, TimeProvider clock)
{
    public const string Algorithm = SecurityAlgorithms.HmacSha256;

    private readonly JsonWebTokenHandler _handler = new();
    private readonly SigningCredentials _credentials = new(signingKey, Algorithm);

    public JwtOptions Options => options;

    public string CreateAccessToken(User user)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            [FlashMallClaims.UserId] = user.Id.ToString(),
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            [FlashMallClaims.Role] = user.RoleList.ToArray(),
        };
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + options.AccessTokenLifetime,
            Claims = claims,
            SigningCredentials = _credentials,
        });
    }

    /// <summary>A new random refresh token and the hash to store for it.</summary>
    public static (string Token, byte[] Hash) CreateRefreshToken()
    {
        var token = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (token, HashRefreshToken(token));
    }

    public static byte[] HashRefreshToken(string token) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token));

    /// <summary>Strict validation: one algorithm, our issuer and audience, a lifetime, a small skew.</summary>
    public TokenValidationParameters ValidationParameters() => new()
    {
        ValidAlgorithms = [Algorithm],
        ValidateIssuerSigningKey = true,
        IssuerSigningKey = signingKey,
        RequireSignedTokens = true,
        ValidateIssuer = true,
        ValidIssuer = options.Issuer,
        ValidateAudience = true,
        ValidAudience = options.Audience,
        ValidateLifetime = true,
        RequireExpirationTime = true,
        ClockSkew = options.ClockSkew,
        NameClaimType = FlashMallClaims.UserId,
        RoleClaimType = FlashMallClaims.Role,
    };
}
