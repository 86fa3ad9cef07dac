using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using FlashMall.Payments.Provider;
using FlashMall.Payments.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace FlashMall.Payments.Simulator;

internal sealed record SimulatorOutcome(string PaymentId, string Status);

/// <summary>
/// The built-in stand-in for a third-party payment provider, at <c>/simulator</c>. Its merchant
/// API (<c>v1/…</c>, bearer API key) is what <see cref="HttpPaymentProvider"/> calls; its buyer side
/// (<c>pay/{paymentId}</c>, <c>payments/{paymentId}/succeed|fail</c>) is what a buyer does on the
/// provider's page, after which it calls the merchant back with a signed webhook.
/// Every call is idempotent on the merchant's reference, as providers' are.
/// </summary>
internal static class SimulatorEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapSimulatorEndpoints(this IEndpointRouteBuilder routes)
    {
        var simulator = routes.MapGroup("/simulator").WithTags("Payment simulator").NonCore().WithoutAppSignature().AllowAnonymous().ExcludeFromDescription();
        var merchant = simulator.MapGroup("/v1").AddEndpointFilter(RequireApiKeyAsync);
        merchant.MapPost("/payments", Create);
        merchant.MapGet("/payments/{merchantRef:guid}", Find);
        merchant.MapPost("/payments/{merchantRef:guid}/refund", Refund);
        simulator.MapGet("/pay/{paymentId:guid}", Page);
        simulator.MapPost("/payments/{paymentId:guid}/succeed", (Guid paymentId, SimulatorStore store, WebhookSender sender, TimeProvider clock) =>
            Decide(paymentId, succeeded: true, store, sender, clock));
        simulator.MapPost("/payments/{paymentId:guid}/fail", (Guid paymentId, SimulatorStore store, WebhookSender sender, TimeProvider clock) =>
            Decide(paymentId, succeeded: false, store, sender, clock));
    }

    private static async ValueTask<object?> RequireApiKeyAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var secrets = context.HttpContext.RequestServices.GetService(typeof(PaymentSecrets)) as PaymentSecrets;
        var given = Encoding.UTF8.GetBytes(context.HttpContext.Request.Headers.Authorization.ToString());
        var expected = Encoding.UTF8.GetBytes($"Bearer {secrets!.ApiKey}");
        return CryptographicOperations.FixedTimeEquals(given, expected)
            ? await next(context)
            : Problems.Unauthorized("invalid_api_key", "A merchant API key is required.");
    }

    private static Results<Ok<ProviderPaymentBody>, ProblemHttpResult> Create(ProviderCreateBody request, SimulatorStore store, HttpContext http, TimeProvider clock)
    {
        if (request.Amount <= 0 || request.Currency is not { Length: 3 } || !Uri.TryCreate(request.NotifyUrl, UriKind.Absolute, out var notifyUrl))
        {
            return Problems.Validation("body", "A positive amount, a currency and an absolute notifyUrl.");
        }
        var payment = store.GetOrAdd(request.MerchantRef, () => new SimulatedPayment(
            $"sim_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}", request.MerchantRef, request.Amount, request.Currency, notifyUrl, clock.GetUtcNow()));
        return payment.Amount != request.Amount || payment.Currency != request.Currency
            ? Problems.Conflict("merchant_ref_reused", "This merchant reference was used for another amount.")
            : TypedResults.Ok(Body(payment, http));
    }

    private static Results<Ok<ProviderPaymentBody>, ProblemHttpResult> Find(Guid merchantRef, SimulatorStore store, HttpContext http) =>
        store.Find(merchantRef) is { } payment ? TypedResults.Ok(Body(payment, http)) : Problems.NotFound("payment");

    private static Results<Ok<ProviderPaymentBody>, ProblemHttpResult> Refund(
        Guid merchantRef, ProviderRefundBody request, SimulatorStore store, WebhookSender sender, HttpContext http, TimeProvider clock)
    {
        if (store.Find(merchantRef) is not { } payment)
        {
            return Problems.NotFound("payment");
        }
        lock (payment)
        {
            if (payment.Status == "refunded")
            {
                return TypedResults.Ok(Body(payment, http));
            }
            if (payment.Status != "succeeded" || request.Amount != payment.Amount)
            {
                return Problems.Conflict("not_refundable", "Only a succeeded payment can be refunded, in full.");
            }
            payment.Status = "refunded";
        }
        Notify(payment, ProviderEvent.RefundSucceeded, sender, clock);
        return TypedResults.Ok(Body(payment, http));
    }

    /// <summary>The buyer pays (or gives up) on the provider's page; the merchant hears of it by webhook. A capture is final.</summary>
    private static Results<Ok<SimulatorOutcome>, ProblemHttpResult> Decide(Guid paymentId, bool succeeded, SimulatorStore store, WebhookSender sender, TimeProvider clock)
    {
        if (store.Find(paymentId) is not { } payment)
        {
            return Problems.NotFound("payment");
        }
        var to = succeeded ? "succeeded" : "failed";
        lock (payment)
        {
            if (payment.Status == to)
            {
                return TypedResults.Ok(new SimulatorOutcome(paymentId.ToString(), to));
            }
            if (payment.Status is "succeeded" or "refunded")
            {
                return Problems.Conflict("already_captured", "This payment was captured already.");
            }
            payment.Status = to;
        }
        Notify(payment, succeeded ? ProviderEvent.PaymentSucceeded : ProviderEvent.PaymentFailed, sender, clock);
        return TypedResults.Ok(new SimulatorOutcome(paymentId.ToString(), to));
    }

    private static ContentHttpResult Page(Guid paymentId, SimulatorStore store)
    {
        var payment = store.Find(paymentId);
        var amount = payment is null ? "unknown payment" : $"¥{payment.Amount / 100}.{payment.Amount % 100:00} — {payment.Status}";
        var html = $$"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>Payment simulator</title></head><body style="font-family:sans-serif;max-width:24rem;margin:2rem auto">
            <h1>Payment simulator</h1><p>{{amount}}</p>
            <form method="post" action="/simulator/payments/{{paymentId}}/succeed"><button>Pay</button></form>
            <form method="post" action="/simulator/payments/{{paymentId}}/fail"><button>Fail</button></form>
            </body></html>
            """;
        return TypedResults.Content(html, "text/html; charset=utf-8");
    }

    private static void Notify(SimulatedPayment payment, string type, WebhookSender sender, TimeProvider clock)
    {
        var eventId = $"evt_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
        var status = type == ProviderEvent.RefundSucceeded ? "refunded" : type == ProviderEvent.PaymentSucceeded ? "succeeded" : "failed";
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new ProviderEvent(eventId, type, clock.GetUtcNow().ToUnixTimeSeconds(),
                new ProviderEventData(payment.MerchantRef, payment.Id, payment.Amount, payment.Currency, status)), Json);
        sender.Send(payment.NotifyUrl, eventId, body);
    }

    private static ProviderPaymentBody Body(SimulatedPayment payment, HttpContext http) => new(
        payment.Id, payment.MerchantRef, payment.Amount, payment.Currency, payment.Status,
        $"{http.Request.Scheme}://{http.Request.Host}/simulator/pay/{payment.MerchantRef}");
}
