using System.Text.Json;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Payments.Webhooks;

internal sealed record WebhookAccepted(string EventId, bool Changed);

/// <summary>
/// <c>POST /api/payments/webhook</c>, provider → server. The raw bytes are verified before
/// anything is parsed: a bad signature is 400 <c>webhook_signature_invalid</c>, a timestamp more
/// than <c>Payments:Webhook:Tolerance</c> (300 s) off is 400 <c>webhook_stale</c>, an event id acted
/// on before is 409 <c>webhook_replayed</c>; none of them changes anything. A genuine event is
/// applied in one short transaction and answered 200 at once.
/// </summary>
internal static partial class WebhookEndpoint
{
    public const string SignatureInvalid = "webhook_signature_invalid";
    public const string Stale = "webhook_stale";
    public const string Replayed = "webhook_replayed";
    public const string AmountMismatch = "amount_mismatch";
    public const int MaxBodyBytes = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapWebhookEndpoint(this IEndpointRouteBuilder routes) =>
        routes.MapPost("/api/payments/webhook", ReceiveAsync).WithTags("Payments").Core().WithoutAppSignature().AllowAnonymous()
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .DisableAntiforgery();

    private static async Task<Results<Ok<WebhookAccepted>, ProblemHttpResult>> ReceiveAsync(
        HttpRequest request, PaymentSecrets secrets, IOptions<PaymentsOptions> options, PaymentSettlement settlement, TimeProvider clock,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(WebhookEndpoint));
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        var body = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);

        switch (WebhookSignature.Check(request.Headers[WebhookSignature.HeaderName], body.Span, secrets.Accepted, clock.GetUtcNow(), options.Value.Webhook.Tolerance))
        {
            case SignatureCheck.Invalid:
                LogRefused(logger, SignatureInvalid, request.HttpContext.Connection.RemoteIpAddress?.ToString());
                return Problems.BadRequest(SignatureInvalid, $"The {WebhookSignature.HeaderName} header does not sign this body with a known secret.");
            case SignatureCheck.Stale:
                LogRefused(logger, Stale, request.HttpContext.Connection.RemoteIpAddress?.ToString());
                return Problems.BadRequest(Stale, "The signature's timestamp is too far from now.");
        }

        ProviderEvent? received;
        try
        {
            received = JsonSerializer.Deserialize<ProviderEvent>(body.Span, Json);
        }
        catch (JsonException)
        {
            received = null;
        }
        if (received is not { Id: { Length: > 0 and <= 100 } eventId, Type: { } type, Data: { PaymentId: { } paymentId } data }
            || (type == ProviderEvent.PaymentSucceeded && (data.Amount is null || data.Currency is null)))
        {
            return Problems.Validation("body", "An event with an id (at most 100 characters), a type and data.paymentId (and a capture's amount and currency).");
        }

        var outcome = type switch
        {
            ProviderEvent.PaymentSucceeded => await settlement.SucceededAsync(paymentId, data.Amount!.Value, data.Currency!, eventId, cancellationToken),
            ProviderEvent.PaymentFailed => await settlement.FailedAsync(paymentId, eventId, "declined", cancellationToken),
            ProviderEvent.RefundSucceeded => await settlement.RefundedAsync(paymentId, eventId, cancellationToken),
            _ => (SettleOutcome?)null,
        };
        LogReceived(logger, eventId, type, paymentId, outcome?.ToString() ?? "ignored");
        return outcome switch
        {
            SettleOutcome.Replayed => Problems.Conflict(Replayed, "This event was received before; nothing changed."),
            SettleOutcome.UnknownPayment => Problems.NotFound("payment"),
            SettleOutcome.AmountMismatch => Problems.Create(StatusCodes.Status422UnprocessableEntity, AmountMismatch, "Amount mismatch",
                "The event's amount is not the payment's; nothing changed."),
            _ => TypedResults.Ok(new WebhookAccepted(eventId, outcome == SettleOutcome.Applied)),
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a payment webhook ({Code}) from {RemoteIp}")]
    private static partial void LogRefused(ILogger logger, string code, string? remoteIp);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment webhook {EventId} ({Type}) for payment {PaymentId}: {Outcome}")]
    private static partial void LogReceived(ILogger logger, string eventId, string type, Guid paymentId, string outcome);
}
