using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FlashMall.ApiTests.Infrastructure;

/// <summary>
/// A node on a real loopback port (Kestrel), so the node and its built-in payment simulator call
/// each other over real HTTP, with known payment secrets so a test can sign (or forge) webhooks.
/// Subclasses add settings (a dead notify URL, a broken provider …) before it starts.
/// </summary>
public class PaymentsFactory : FlashMallFactory
{
    public const string WebhookSecret = "whsec_test_current_0123456789abcdef";
    public const string PreviousWebhookSecret = "whsec_test_previous_fedcba9876543210";
    public const string ApiKey = "sk_test_flashmall_0123456789abcdef";

    public PaymentsFactory() => UseKestrel(0);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Payments:Webhook:Secrets:0"] = WebhookSecret;
        Settings["Payments:Webhook:Secrets:1"] = PreviousWebhookSecret;
        Settings["Payments:Simulator:SigningSecrets:0"] = WebhookSecret;
        Settings["Payments:Provider:ApiKey"] = ApiKey;
        Settings["Payments:Simulator:RetryBase"] = "00:00:00.200";
        Settings["Payments:Simulator:MaxAttempts"] = "3";
        Settings["Payments:Reconciliation:After"] = "00:00:00";
    }

    /// <summary>A webhook request as a provider signs it: <c>t=…,v1=…</c> with each of <paramref name="secrets"/> (default the current one).</summary>
    public static HttpRequestMessage Webhook(byte[] body, long? timestamp = null, params string[] secrets)
    {
        var t = timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new StringBuilder($"t={t}");
        foreach (var secret in secrets.Length == 0 ? [WebhookSecret] : secrets)
        {
            var signed = Encoding.ASCII.GetBytes($"{t}.").Concat(body).ToArray();
            header.Append(",v1=").Append(Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed)));
        }
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/payments/webhook") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-Signature", header.ToString());
        return request;
    }

    /// <summary>A provider event's raw bytes.</summary>
    public static byte[] Event(string eventId, string type, string paymentId, long amount) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        id = eventId, type, created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        data = new { paymentId, providerRef = "sim_test", amount, currency = "CNY", status = type == "payment.failed" ? "failed" : "succeeded" },
    });

    /// <summary>Starts paying <paramref name="orderId"/>: the payment's id.</summary>
    public static async Task<string> PayAsync(HttpClient buyer, string orderId, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/orders/{orderId}/payments") { Content = JsonContent.Create(new { method = "simulator" }) };
        request.Headers.Add("Idempotency-Key", key ?? Guid.NewGuid().ToString());
        var created = await (await buyer.SendAsync(request)).JsonAsync(System.Net.HttpStatusCode.Created);
        Assert.StartsWith("http", created.GetProperty("payUrl").GetString());
        return created.GetProperty("paymentId").GetString()!;
    }
}
