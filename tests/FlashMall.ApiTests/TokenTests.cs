using System.Net;
using System.Text;
using FlashMall.Accounts.Security;
using FlashMall.ApiTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FlashMall.ApiTests;

/// <summary>Access tokens are validated strictly: signature, one algorithm, issuer, audience, lifetime.</summary>
public sealed class TokenTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    [Fact]
    public async Task No_token_is_401_unauthorized()
    {
        using var client = factory.CreateClient();
        var response = await client.GetAsync("/api/accounts/me");
        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_token_is_401_invalid_token()
    {
        using var client = factory.ClientWithToken("not.a.jwt");
        await (await client.GetAsync("/api/accounts/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task Expired_token_is_refused()
    {
        var user = await factory.NewUserAsync();
        var expired = Sign(user.UserId, SecurityAlgorithms.HmacSha256, expires: DateTime.UtcNow.AddMinutes(-5));
        using var client = factory.ClientWithToken(expired);
        await (await client.GetAsync("/api/accounts/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task A_correctly_signed_fresh_token_is_accepted()
    {
        var user = await factory.NewUserAsync();
        using var client = factory.ClientWithToken(Sign(user.UserId, SecurityAlgorithms.HmacSha256, DateTime.UtcNow.AddMinutes(5)));
        await (await client.GetAsync("/api/accounts/me")).EnsureStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Tampered_payload_is_refused()
    {
        var user = await factory.NewUserAsync();
        var parts = user.Tokens.AccessToken.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("\"buyer\"", "\"admin\"", StringComparison.Ordinal);
        var tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
        using var client = factory.ClientWithToken(tampered);
        await (await client.GetAsync("/api/admin/products/00000000-0000-0000-0000-000000000000")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task Unsigned_alg_none_token_is_refused()
    {
        var user = await factory.NewUserAsync();
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        var payload = Base64UrlEncoder.Encode(Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(user.Tokens.AccessToken.Split('.')[1])));
        using var client = factory.ClientWithToken($"{header}.{payload}.");
        await (await client.GetAsync("/api/accounts/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task Token_signed_with_another_algorithm_is_refused_even_with_the_right_key()
    {
        var user = await factory.NewUserAsync();
        using var client = factory.ClientWithToken(Sign(user.UserId, SecurityAlgorithms.HmacSha512, DateTime.UtcNow.AddMinutes(5)));
        await (await client.GetAsync("/api/accounts/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Theory]
    [InlineData("someone-else", "flashmall-api")]
    [InlineData("flashmall", "another-api")]
    public async Task Wrong_issuer_or_audience_is_refused(string issuer, string audience)
    {
        var user = await factory.NewUserAsync();
        using var client = factory.ClientWithToken(Sign(user.UserId, SecurityAlgorithms.HmacSha256, DateTime.UtcNow.AddMinutes(5), issuer, audience));
        await (await client.GetAsync("/api/accounts/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_token");
    }

    /// <summary>
    /// Validated tokens are remembered, but never past their expiry, never when invalid, and
    /// each request gets its own copy of the identity.
    /// </summary>
    [Fact]
    public async Task A_remembered_token_still_expires_and_a_bad_one_is_never_remembered()
    {
        var handler = factory.Services.GetRequiredService<CachingTokenHandler>();
        var parameters = factory.Services.GetRequiredService<TokenService>().ValidationParameters();
        parameters.ClockSkew = TimeSpan.Zero;
        var userId = Guid.NewGuid().ToString();
        var expires = DateTime.UtcNow.AddSeconds(2);
        var token = Sign(userId, SecurityAlgorithms.HmacSha256, expires);

        var first = await handler.ValidateTokenAsync(token, parameters);
        var second = await handler.ValidateTokenAsync(token, parameters);
        Assert.True(first.IsValid);
        Assert.True(second.IsValid);
        Assert.NotSame(first.ClaimsIdentity, second.ClaimsIdentity);
        Assert.Equal(userId, second.ClaimsIdentity.FindFirst("sub")?.Value);

        var tampered = token[..^2] + (token[^2] == 'A' ? "BB" : "AA");
        Assert.False((await handler.ValidateTokenAsync(tampered, parameters)).IsValid);
        Assert.False((await handler.ValidateTokenAsync(tampered, parameters)).IsValid);

        while (DateTime.UtcNow < expires.AddMilliseconds(1_100))
        {
            await Task.Delay(100);
        }
        Assert.False((await handler.ValidateTokenAsync(token, parameters)).IsValid);
    }

    /// <summary>Signs a token with the server's own key, so only the property under test is wrong.</summary>
    private string Sign(string userId, string algorithm, DateTime expires, string issuer = "flashmall", string audience = "flashmall-api")
    {
        var key = factory.Services.GetRequiredService<TokenService>().ValidationParameters().IssuerSigningKey;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = expires.AddMinutes(-15),
            NotBefore = expires.AddMinutes(-15),
            Expires = expires,
            Claims = new Dictionary<string, object> { ["sub"] = userId, ["role"] = new[] { "buyer" } },
            SigningCredentials = new SigningCredentials(key, algorithm),
        });
    }
}
