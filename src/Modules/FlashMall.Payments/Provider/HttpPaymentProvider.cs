using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace FlashMall.Payments.Provider;

/// <summary>The provider's merchant API as it travels: <c>POST v1/payments</c>, <c>GET v1/payments/{id}</c>, <c>POST v1/payments/{id}/refund</c>.</summary>
internal sealed record ProviderCreateBody(Guid MerchantRef, long Amount, string Currency, string Description, string NotifyUrl);

internal sealed record ProviderPaymentBody(string Id, Guid MerchantRef, long Amount, string Currency, string Status, string? PayUrl);

internal sealed record ProviderRefundBody(long Amount);

/// <summary>
/// The provider adapter over HTTP (the built-in simulator speaks this API). Its client has a 1 s
/// connect timeout, a 5 s read timeout and a circuit breaker (see <see cref="PaymentsModule"/>);
/// this class turns what went wrong into what we may conclude from it.
/// </summary>
internal sealed class HttpPaymentProvider(HttpClient http, SelfAddress self, PaymentSecrets secrets) : IPaymentProvider
{
    public async Task<ProviderPayment> CreateAsync(ProviderPaymentRequest request, CancellationToken cancellationToken)
    {
        var body = new ProviderCreateBody(request.PaymentId, request.Amount, request.Currency, request.Description, request.NotifyUrl.AbsoluteUri);
        using var message = Request(HttpMethod.Post, "v1/payments", JsonContent.Create(body));
        using var response = await SendAsync(message, cancellationToken);
        return await ReadAsync(response, cancellationToken);
    }

    public async Task<ProviderPayment?> FindAsync(Guid paymentId, CancellationToken cancellationToken)
    {
        using var message = Request(HttpMethod.Get, $"v1/payments/{paymentId}");
        using var response = await SendAsync(message, cancellationToken);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await ReadAsync(response, cancellationToken);
    }

    public async Task RefundAsync(Guid paymentId, long amount, CancellationToken cancellationToken)
    {
        using var message = Request(HttpMethod.Post, $"v1/payments/{paymentId}/refund", JsonContent.Create(new ProviderRefundBody(amount)));
        // The provider refunds once per key, whoever asks again (an operator's retry, reconciliation).
        message.Headers.Add("Idempotency-Key", $"refund-{paymentId}");
        using var response = await SendAsync(message, cancellationToken);
        await ReadAsync(response, cancellationToken);
    }

    private HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content = null)
    {
        var message = new HttpRequestMessage(method, new Uri(self.ProviderBase(), path)) { Content = content };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secrets.ApiKey);
        return message;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(message, cancellationToken);
        }
        catch (BrokenCircuitException ex)
        {
            throw new PaymentProviderException(ProviderFailure.NotSent, "The payment provider's circuit is open.", ex);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConnectionError && NeverConnected(ex))
        {
            throw new PaymentProviderException(ProviderFailure.NotSent, "The payment provider could not be reached.", ex);
        }
        // SocketException and IOException too: a connection reset just after it opened can escape
        // SocketsHttpHandler unwrapped (SocketException 107 from reading the remote end point; seen in
        // BrokenProviderTests), and it was answered 500 instead of parking the intent.
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or SocketException or IOException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new PaymentProviderException(ProviderFailure.Unknown, "The payment provider's answer was lost.", ex);
        }
    }

    /// <summary>Refused or unreachable before a connection existed; anything later (a reset) may have reached the provider.</summary>
    private static bool NeverConnected(Exception ex) =>
        ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.HostUnreachable or SocketError.NetworkUnreachable }
        || (ex.InnerException is not null && NeverConnected(ex.InnerException));

    private static async Task<ProviderPayment> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if ((int)response.StatusCode >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
        {
            throw new PaymentProviderException(ProviderFailure.Unknown, $"The payment provider answered {(int)response.StatusCode}.");
        }
        if (!response.IsSuccessStatusCode)
        {
            throw new PaymentProviderException(ProviderFailure.Refused, $"The payment provider refused with {(int)response.StatusCode}.");
        }
        try
        {
            var body = await response.Content.ReadFromJsonAsync<ProviderPaymentBody>(cancellationToken)
                ?? throw new PaymentProviderException(ProviderFailure.Unknown, "The payment provider answered nothing.");
            return new ProviderPayment(body.MerchantRef, body.Id, body.Amount, body.Currency, body.Status, body.PayUrl);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or HttpRequestException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new PaymentProviderException(ProviderFailure.Unknown, "The payment provider's answer could not be read.", ex);
        }
    }
}
