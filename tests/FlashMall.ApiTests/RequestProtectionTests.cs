using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using FlashMall.ApiTests.Infrastructure;

namespace FlashMall.ApiTests;

/// <summary>Signs requests as an app does: HMAC-SHA256 over method, path+query, timestamp, nonce and the body's SHA-256.</summary>
internal static class AppSigning
{
    public const string AppKey = "test-app";
    public const string Secret = "test-app-secret-0123456789-abcdefghij";

    public static string Sign(string secret, string method, string pathAndQuery, string timestamp, string nonce, byte[] body)
    {
        var canonical = $"{method}\n{pathAndQuery}\n{timestamp}\n{nonce}\n{Convert.ToHexStringLower(SHA256.HashData(body))}";
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>A request with the four headers; each part can be spoiled by the caller.</summary>
    public static HttpRequestMessage Signed(HttpMethod method, string pathAndQuery, object? json = null,
        string appKey = AppKey, string secret = Secret, DateTimeOffset? at = null, string? nonce = null, Action<HttpRequestMessage>? after = null)
    {
        var body = json is null ? [] : JsonSerializerBytes(json);
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        nonce ??= Guid.NewGuid().ToString("N");
        var request = new HttpRequestMessage(method, pathAndQuery);
        if (json is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }
        request.Headers.Add("X-App-Key", appKey);
        request.Headers.Add("X-Timestamp", timestamp);
        request.Headers.Add("X-Nonce", nonce);
        request.Headers.Add("X-Signature", Sign(secret, method.Method, pathAndQuery, timestamp, nonce, body));
        after?.Invoke(request);
        return request;
    }

    private static byte[] JsonSerializerBytes(object json) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(json);
}

public sealed class SignedRequestsFactory : FlashMallFactory
{
    public override Task InitializeAsync()
    {
        Settings["Security:RequireSignedRequests"] = "true";
        Settings[$"Security:Apps:{AppSigning.AppKey}"] = AppSigning.Secret;
        return base.InitializeAsync();
    }
}

/// <summary>With <c>Security:RequireSignedRequests=true</c>: a correctly signed request passes; each kind of bad one is refused with its own code and changes nothing.</summary>
public sealed class SignedRequestTests(SignedRequestsFactory factory) : IClassFixture<SignedRequestsFactory>
{
    [Fact]
    public async Task A_signed_get_and_a_signed_post_with_a_body_pass_and_the_body_still_binds()
    {
        using var client = factory.CreateClient();
        await (await client.SendAsync(AppSigning.Signed(HttpMethod.Get, "/api/flash-sales?page=1"))).EnsureStatusAsync(HttpStatusCode.OK);
        var email = $"signed-{Guid.NewGuid():N}@flashmall.test";
        var registered = await client.SendAsync(AppSigning.Signed(HttpMethod.Post, "/api/accounts/register", new { email, password = "Correct-Horse-9" }));
        Assert.False(string.IsNullOrEmpty((await registered.JsonAsync(HttpStatusCode.Created)).GetProperty("userId").GetString()));
        // Health answers unsigned: load balancers do not sign.
        await (await client.GetAsync("/health/ready")).EnsureStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Each_bad_signature_is_refused_with_its_code_and_registers_no_one()
    {
        using var client = factory.CreateClient();
        var email = $"refused-{Guid.NewGuid():N}@flashmall.test";
        object Body() => new { email, password = "Correct-Horse-9" };

        await (await client.PostAsJsonAsync("/api/accounts/register", Body())).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "signature_missing");
        await (await client.SendAsync(AppSigning.Signed(HttpMethod.Post, "/api/accounts/register", Body(), appKey: "no-such-app")))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "app_key_unknown");
        await (await client.SendAsync(AppSigning.Signed(HttpMethod.Post, "/api/accounts/register", Body(), secret: "a-different-secret-0123456789-abcdefgh")))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "signature_invalid");
        // Signed, then the body changed on the way: the hash no longer matches.
        await (await client.SendAsync(AppSigning.Signed(HttpMethod.Post, "/api/accounts/register", Body(), after: r =>
        {
            r.Content = JsonContent.Create(new { email, password = "Other-Horse-99" });
        }))).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "signature_invalid");
        // Signed for another path.
        await (await client.SendAsync(AppSigning.Signed(HttpMethod.Post, "/api/accounts/register", Body(), after: r => r.RequestUri = new Uri("/api/accounts/login", UriKind.Relative))))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "signature_invalid");
        await (await client.SendAsync(AppSigning.Signed(HttpMethod.Post, "/api/accounts/register", Body(), at: DateTimeOffset.UtcNow.AddMinutes(-6))))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "timestamp_stale");
        await (await client.SendAsync(AppSigning.Signed(HttpMethod.Post, "/api/accounts/register", Body(), at: DateTimeOffset.UtcNow.AddMinutes(6))))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "timestamp_stale");

        // Nobody was registered by any of them: a correct signature now registers the email (409 would mean it existed).
        var nonce = Guid.NewGuid().ToString("N");
        await (await client.SendAsync(AppSigning.Signed(HttpMethod.Post, "/api/accounts/register", Body(), nonce: nonce))).EnsureStatusAsync(HttpStatusCode.Created);
        // The same nonce again, even correctly signed, is a replay.
        await (await client.SendAsync(AppSigning.Signed(HttpMethod.Get, "/api/flash-sales", nonce: nonce)))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "nonce_replayed");
        Assert.Contains("Signed request refused (nonce_replayed) app=test-app", factory.Logs.All, StringComparison.Ordinal);
    }
}
