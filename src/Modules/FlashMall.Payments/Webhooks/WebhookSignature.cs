using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FlashMall.Payments.Webhooks;

internal enum SignatureCheck
{
    Valid,
    Invalid,
    Stale,
}

/// <summary>
/// <c>X-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "t." + raw body&gt;</c>, one <c>v1</c>
/// per secret the sender holds (several during a rotation), as the major providers sign.
/// </summary>
internal static class WebhookSignature
{
    public const string HeaderName = "X-Signature";
    private const int MaxHeaderLength = 1024;

    public static string Sign(IEnumerable<string> secrets, long timestamp, ReadOnlySpan<byte> body)
    {
        var header = new StringBuilder("t=").Append(timestamp.ToString(CultureInfo.InvariantCulture));
        foreach (var secret in secrets)
        {
            header.Append(",v1=").Append(Convert.ToHexStringLower(Mac(secret, timestamp, body)));
        }
        return header.ToString();
    }

    /// <summary>
    /// Valid when one <c>v1</c> matches one accepted secret (compared in constant time) and the
    /// timestamp is within <paramref name="tolerance"/> of <paramref name="now"/>; a signature is
    /// checked before its timestamp, so a forged header learns nothing about the clock.
    /// </summary>
    public static SignatureCheck Check(string? header, ReadOnlySpan<byte> body, IEnumerable<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        if (header is null || header.Length > MaxHeaderLength)
        {
            return SignatureCheck.Invalid;
        }
        long? timestamp = null;
        var signatures = new List<byte[]>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries))
        {
            var (key, value) = part.IndexOf('=') is var eq and > 0 ? (part[..eq], part[(eq + 1)..]) : ("", "");
            if (key == "t" && timestamp is null && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t))
            {
                timestamp = t;
            }
            else if (key == "v1" && value.Length == 64)
            {
                try
                {
                    signatures.Add(Convert.FromHexString(value));
                }
                catch (FormatException)
                {
                    // Not hex: matches nothing.
                }
            }
        }
        if (timestamp is not { } signedAt || signatures.Count == 0)
        {
            return SignatureCheck.Invalid;
        }
        var matched = false;
        foreach (var secret in secrets)
        {
            var expected = Mac(secret, signedAt, body);
            foreach (var signature in signatures)
            {
                matched |= CryptographicOperations.FixedTimeEquals(expected, signature);
            }
        }
        if (!matched)
        {
            return SignatureCheck.Invalid;
        }
        var age = now.ToUnixTimeSeconds() - signedAt;
        return Math.Abs(age) > tolerance.TotalSeconds ? SignatureCheck.Stale : SignatureCheck.Valid;
    }

    private static byte[] Mac(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.ASCII.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
    }
}

/// <summary>A provider event as it travels: <c>{ "id", "type", "created", "data": { … } }</c>.</summary>
internal sealed record ProviderEvent(string? Id, string? Type, long? Created, ProviderEventData? Data)
{
    public const string PaymentSucceeded = "payment.succeeded";
    public const string PaymentFailed = "payment.failed";
    public const string RefundSucceeded = "refund.succeeded";
}

internal sealed record ProviderEventData(Guid? PaymentId, string? ProviderRef, long? Amount, string? Currency, string? Status);
