using System.Globalization;
using System.Security.Claims;
using FlashMall.Contracts.Ordering;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Problems;
using FlashMall.Payments.Domain;
using FlashMall.Payments.Persistence;
using FlashMall.Payments.Provider;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace FlashMall.Payments.Endpoints;

internal sealed record PaymentRequest(string? Method);
internal sealed record PaymentCreated(string PaymentId, string PayUrl);
internal sealed record PaymentView(string PaymentId, string OrderId, string Status, long Amount, string Currency, string? PayUrl, DateTimeOffset CreatedAt);
internal sealed record RefundView(string OrderId, string Status, string PaymentId, long Refunded);

/// <summary>Buyers pay their own orders; operators refund paid ones.</summary>
internal static class PaymentEndpoints
{
    public const string InvalidTransition = "invalid_transition";
    public const string ProviderUnavailable = "payment_provider_unavailable";
    public const string ProviderRefused = "payment_provider_refused";
    public const string PaymentInProgress = "payment_in_progress";

    public static void MapPaymentEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/orders/{id}/payments", Create).WithTags("Payments").Core().RequireAuthorization()
            .WithIdempotency<RouteHandlerBuilder, PaymentsDbContext>(effectInTransaction: false);
        routes.MapGet("/api/payments/{id}", Get).WithTags("Payments").Core().RequireAuthorization();
        routes.MapPost("/api/admin/orders/{id}/refund", Refund).WithTags("Payments admin").NonCore().RequireAuthorization(Policies.Operator)
            .WithIdempotency<RouteHandlerBuilder, PaymentsDbContext>(effectInTransaction: false);
    }

    /// <summary>
    /// 201 with the order's active intent (the same one for every request until it is settled or
    /// fails); 404 for another buyer's order; 409 <c>invalid_transition</c> unless it awaits
    /// payment; 503 <c>payment_provider_unavailable</c> when the provider cannot be reached or its
    /// answer was lost (the intent is parked and settled by reconciliation; a retry asks again).
    /// </summary>
    private static async Task<Results<Created<PaymentCreated>, ProblemHttpResult>> Create(
        string id, PaymentRequest? request, ClaimsPrincipal user, PaymentIntents intents, HttpContext http, IOptions<PaymentsOptions> options,
        CancellationToken cancellationToken)
    {
        if (request?.Method != PaymentIntents.Method)
        {
            return Problems.Validation("method", $"One of: {PaymentIntents.Method}.");
        }
        if (!Guid.TryParse(id, out var orderId))
        {
            return Problems.NotFound("order");
        }
        var result = await intents.StartAsync(orderId, user.UserId(), cancellationToken);
        switch (result.Outcome)
        {
            case IntentOutcome.Ready:
                var payment = result.Payment!;
                return TypedResults.Created($"/api/payments/{payment.Id}", new PaymentCreated(payment.Id.ToString(), payment.PayUrl ?? ""));
            case IntentOutcome.NotFound:
                return Problems.NotFound("order");
            case IntentOutcome.NotPayable:
                return Problems.Conflict(InvalidTransition, "Only an unpaid order before its payment deadline can be paid.");
            case IntentOutcome.InProgress:
                http.Response.Headers.RetryAfter = "1";
                return Problems.Conflict(PaymentInProgress, "A payment for this order is being set up; retry in a moment.");
            case IntentOutcome.ProviderRefused:
                return Problems.Create(StatusCodes.Status502BadGateway, ProviderRefused, "Payment provider refused", "The payment provider refused the payment.");
            default:
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(options.Value.Provider.BreakDuration.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return Problems.Create(StatusCodes.Status503ServiceUnavailable, ProviderUnavailable, "Payment provider unavailable",
                    "The payment provider cannot be reached right now; retry shortly.");
        }
    }

    private static async Task<Results<Ok<PaymentView>, ProblemHttpResult>> Get(string id, ClaimsPrincipal user, PaymentsDbContext db, CancellationToken cancellationToken)
    {
        var buyer = user.UserId();
        return Guid.TryParse(id, out var paymentId)
            && await db.Payments.AsNoTracking().SingleOrDefaultAsync(p => p.Id == paymentId && p.UserId == buyer, cancellationToken) is { } payment
            ? TypedResults.Ok(new PaymentView(payment.Id.ToString(), payment.OrderId.ToString(), payment.Status, payment.Amount, payment.Currency, payment.PayUrl, payment.CreatedAt))
            : Problems.NotFound("payment");
    }

    /// <summary>
    /// Gives a paid order's money back in full: the order turns <c>refunded</c> (its units return
    /// through <see cref="OrderRefunded"/>) together with the payment turning <c>refunding</c>, then
    /// the provider refunds. 409 <c>invalid_transition</c> unless the order is paid; 503 when the
    /// provider cannot be asked now (the refund is under way: reconciliation finishes it, and a
    /// retry asks again); 502 <c>payment_provider_refused</c> when the provider refuses it for good.
    /// </summary>
    private static async Task<Results<Ok<RefundView>, ProblemHttpResult>> Refund(
        string id, IOrderPayments orders, PaymentsDbContext db, PaymentSettlement settlement, IPaymentProvider provider, HttpContext http,
        CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var orderId) || await orders.FindAsync(orderId, cancellationToken) is not { } order)
        {
            return Problems.NotFound("order");
        }
        var payment = order.Status switch
        {
            OrderStates.Paid => await db.Payments.AsNoTracking().SingleOrDefaultAsync(p => p.OrderId == orderId && p.Status == PaymentStatus.Succeeded, cancellationToken),
            // A refund begun before whose provider call failed: ask again.
            OrderStates.Refunded => await db.Payments.AsNoTracking()
                .SingleOrDefaultAsync(p => p.OrderId == orderId && p.Status == PaymentStatus.Refunding && p.Reason == PaymentSettlement.OperatorRefund, cancellationToken),
            _ => null,
        };
        if (payment is null || (payment.Status == PaymentStatus.Succeeded && !await settlement.BeginOperatorRefundAsync(payment, cancellationToken)))
        {
            return Problems.Conflict(InvalidTransition, "Only a paid order can be refunded.");
        }
        try
        {
            await provider.RefundAsync(payment.Id, payment.Amount, cancellationToken);
        }
        catch (PaymentProviderException ex) when (ex.Failure == ProviderFailure.Refused)
        {
            await settlement.RefundRefusedAsync(payment.Id, ex.Message, CancellationToken.None);
            return Problems.Create(StatusCodes.Status502BadGateway, ProviderRefused, "Payment provider refused", "The provider refused the refund; an operator must settle it.");
        }
        catch (PaymentProviderException)
        {
            http.Response.Headers.RetryAfter = "15";
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, ProviderUnavailable, "Payment provider unavailable",
                "The order is refunded and the money is under way, but the provider cannot be reached now; it is retried until it is done.");
        }
        await settlement.RefundedAsync(payment.Id, eventId: null, CancellationToken.None);
        return TypedResults.Ok(new RefundView(orderId.ToString(), OrderStates.Refunded, payment.Id.ToString(), payment.Amount));
    }
}
