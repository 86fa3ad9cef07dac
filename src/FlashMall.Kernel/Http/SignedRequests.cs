using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Kernel.Http;

/// <summary>
/// <c>Security:*</c>: signed app requests. When <see cref="RequireSignedRequests"/> is on, every
/// API request (not health, metrics, media, the payment webhook or the simulator) carries
/// <c>X-App-Key</c>, <c>X-Timestamp</c> (unix seconds), <c>X-Nonce</c> and <c>X-Signature</c>, the
/// lower-case hex HMAC-SHA256, with the app's secret, of
/// <c>METHOD \n path?query \n timestamp \n nonce \n hex SHA-256 of the raw body</c>.
/// </summary>
public sealed class SignedRequestOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Security";

    /// <summary>Refuse API requests that are not signed by a known app.</summary>
    public bool RequireSignedRequests { get; set; }

    /// <summary>App key → secret (at least 32 characters), e.g. <c>Security:Apps:ios-1=…</c>; keep secrets in environment variables or a secret store.</summary>
    public Dictionary<string, string> Apps { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How far <c>X-Timestamp</c> may be from the server's clock, either way; a nonce is remembered for twice this.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Every app's secret must be long enough, and some app must exist when signatures are required.</summary>
internal sealed class SignedRequestOptionsValidator : IValidateOptions<SignedRequestOptions>
{
    public ValidateOptionsResult Validate(string? name, SignedRequestOptions options)
    {
        var failures = options.Apps.Where(a => a.Value.Length < 32).Select(a => $"Security:Apps:{a.Key}: the secret must be at least 32 characters.").ToList();
        if (options.RequireSignedRequests && options.Apps.Count == 0)
        {
            failures.Add("Security:RequireSignedRequests is true but no Security:Apps are configured.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Endpoint metadata: not signed by apps (health, media for image tags, provider webhooks, the simulator).</summary>
public sealed class NoAppSignature
{
    /// <summary>The one instance endpoints carry.</summary>
    public static readonly NoAppSignature Instance = new();

    private NoAppSignature()
    {
    }
}

/// <summary>Used nonces, remembered until they could no longer pass the timestamp check.</summary>
public interface INonceStore
{
    /// <summary><see langword="true"/> the first time <paramref name="key"/> is seen within <paramref name="ttl"/>, <see langword="false"/> for a replay.</summary>
    /// <param name="key">App key and nonce.</param>
    /// <param name="ttl">How long to remember it.</param>
    ValueTask<bool> TryUseAsync(string key, TimeSpan ttl);
}

/// <summary>One node's nonces (a single-node deployment; several nodes share them in Redis). Bounded: past <see cref="MaxNonces"/> new nonces are refused rather than forgotten.</summary>
internal sealed class InProcessNonceStore(TimeProvider clock) : INonceStore
{
    public const int MaxNonces = 1_000_000;

    private readonly ConcurrentDictionary<string, long> _seen = new(StringComparer.Ordinal);
    private long _nextSweep;

    public ValueTask<bool> TryUseAsync(string key, TimeSpan ttl)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var due = Interlocked.Read(ref _nextSweep);
        if (now >= due && Interlocked.CompareExchange(ref _nextSweep, now + TimeSpan.TicksPerSecond * 10, due) == due)
        {
            foreach (var (k, expires) in _seen)
            {
                if (expires <= now)
                {
                    _seen.TryRemove(new KeyValuePair<string, long>(k, expires));
                }
            }
        }
        if (_seen.Count >= MaxNonces)
        {
            return ValueTask.FromResult(false);
        }
        while (true)
        {
            if (_seen.TryAdd(key, now + ttl.Ticks))
            {
                return ValueTask.FromResult(true);
            }
            if (_seen.TryGetValue(key, out var expires) && expires > now)
            {
                return ValueTask.FromResult(false);
            }
            _seen.TryRemove(new KeyValuePair<string, long>(key, expires));
        }
    }
}

/// <summary>
/// Checks signed app requests, in order: headers present (<c>signature_missing</c>), app known
/// (<c>app_key_unknown</c>), timestamp within the window (<c>timestamp_stale</c>), signature
/// (<c>signature_invalid</c>, compared in constant time), then the nonce unused
/// (<c>nonce_replayed</c> — only a correctly signed request can spend a nonce). The body is
/// hashed from the raw bytes with buffering on and rewound, so model binding reads it as sent.
/// Every refusal is logged with its reason and app key; never the signature or secret.
/// </summary>
internal sealed partial class SignedRequestGate(
    RequestDelegate next, IOptions<SignedRequestOptions> options, INonceStore nonces, TimeProvider clock, ILogger<SignedRequestGate> logger)
{
    public const string AppKeyHeader = "X-App-Key";
    public const string TimestampHeader = "X-Timestamp";
    public const string NonceHeader = "X-Nonce";
    public const string SignatureHeader = "X-Signature";

    private readonly SignedRequestOptions _options = options.Value;
    private readonly Dictionary<string, byte[]> _secrets = options.Value.Apps.ToDictionary(a => a.Key, a => Encoding.UTF8.GetBytes(a.Value), StringComparer.Ordinal);

    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.Metadata.GetMetadata<NoAppSignature>() is not null || endpoint.Metadata.GetMetadata<ServedOnEveryRole>() is not null)
        {
            await next(context);
            return;
        }
        var headers = context.Request.Headers;
        var appKey = headers[AppKeyHeader].ToString();
        var timestamp = headers[TimestampHeader].ToString();
        var nonce = headers[NonceHeader].ToString();
        var signatureHex = headers[SignatureHeader].ToString();
        if (appKey.Length is 0 or > 64 || nonce.Length is < 8 or > 64 || !nonce.All(c => c is > ' ' and <= '~')
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || signatureHex.Length != 64 || !TryFromHex(signatureHex, out var signature))
        {
            await RefuseAsync(context, ProblemCodes.SignatureMissing, appKey, "X-App-Key, X-Timestamp (unix seconds), X-Nonce (8–64 characters) and X-Signature (64 hex digits) are required.");
            return;
        }
        if (!_secrets.TryGetValue(appKey, out var secret))
        {
            await RefuseAsync(context, ProblemCodes.AppKeyUnknown, appKey, "The X-App-Key is not known.");
            return;
        }
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        if (Math.Abs(now - seconds) > _options.Window.TotalSeconds)
        {
            await RefuseAsync(context, ProblemCodes.TimestampStale, appKey, $"X-Timestamp must be within {_options.Window.TotalSeconds:F0} s of the server's clock ({now}).");
            return;
        }
        var expected = await ComputeAsync(context.Request, secret, timestamp, nonce);
        if (!CryptographicOperations.FixedTimeEquals(expected, signature))
        {
            await RefuseAsync(context, ProblemCodes.SignatureInvalid, appKey, "The X-Signature does not match the request.");
            return;
        }
        if (!await nonces.TryUseAsync($"{appKey}:{nonce}", _options.Window * 2))
        {
            await RefuseAsync(context, ProblemCodes.NonceReplayed, appKey, "This X-Nonce was already used.");
            return;
        }
        LogAccepted(logger, appKey, context.Request.Method, context.Request.Path);
        await next(context);
    }

    /// <summary>The HMAC the app should have sent.</summary>
    private static async Task<byte[]> ComputeAsync(HttpRequest request, byte[] secret, string timestamp, string nonce)
    {
        request.EnableBuffering();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
        {
            sha.AppendData(buffer, 0, read);
        }
        request.Body.Position = 0;
        var canonical = Canonical(request.Method, $"{request.PathBase}{request.Path}{request.QueryString}", timestamp, nonce, Convert.ToHexStringLower(sha.GetHashAndReset()));
        return HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(canonical));
    }

    /// <summary>The signed text: method, path with query, timestamp, nonce and the body's hex SHA-256, one per line.</summary>
    public static string Canonical(string method, string pathAndQuery, string timestamp, string nonce, string bodySha256Hex) =>
        $"{method.ToUpperInvariant()}\n{pathAndQuery}\n{timestamp}\n{nonce}\n{bodySha256Hex}";

    private static bool TryFromHex(string hex, out byte[] bytes)
    {
        bytes = new byte[hex.Length / 2];
        return Convert.FromHexString(hex, bytes, out _, out var written) == System.Buffers.OperationStatus.Done && written == bytes.Length;
    }

    private Task RefuseAsync(HttpContext context, string code, string appKey, string detail)
    {
        LogRefused(logger, code, appKey.Length > 64 ? appKey[..64] : appKey, context.Request.Method, context.Request.Path);
        return Problems.Problems.Unauthorized(code, detail).ExecuteAsync(context);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signed request refused ({Code}) app={AppKey} {Method} {Path}")]
    private static partial void LogRefused(ILogger logger, string code, string appKey, string method, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Signed request accepted app={AppKey} {Method} {Path}")]
    private static partial void LogAccepted(ILogger logger, string appKey, string method, string path);
}

/// <summary>Registering and placing the signed-request gate.</summary>
public static class SignedRequestRegistration
{
    /// <summary>Binds and validates <c>Security:*</c>; in-process nonces unless an adapter (Redis) registers shared ones.</summary>
    /// <param name="services">The node's services.</param>
    public static IServiceCollection AddSignedRequests(this IServiceCollection services)
    {
        services.AddOptions<SignedRequestOptions>().BindConfiguration(SignedRequestOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<SignedRequestOptions>, SignedRequestOptionsValidator>();
        services.AddSingleton<InProcessNonceStore>();
        services.AddSingleton<INonceStore>(sp => sp.GetRequiredService<InProcessNonceStore>());
        return services;
    }

    /// <summary>After routing and body limits; nothing at all unless <c>Security:RequireSignedRequests=true</c>.</summary>
    /// <param name="app">The pipeline.</param>
    public static IApplicationBuilder UseSignedRequests(this IApplicationBuilder app) =>
        app.ApplicationServices.GetRequiredService<IOptions<SignedRequestOptions>>().Value.RequireSignedRequests
            ? app.UseMiddleware<SignedRequestGate>()
            : app;

    /// <summary>Marks endpoints apps do not sign (provider webhooks, media for image tags, the simulator).</summary>
    /// <param name="builder">The endpoint or group.</param>
    public static TBuilder WithoutAppSignature<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(NoAppSignature.Instance);
}
