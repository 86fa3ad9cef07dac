using FlashMall.Contracts.Ordering;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Persistence;
using FlashMall.Payments.Domain;
using FlashMall.Payments.Persistence;
using FlashMall.Payments.Provider;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace FlashMall.Payments;

internal enum IntentOutcome
{
    Ready,
    NotFound,
    NotPayable,

    /// <summary>Another request for this order is asking the provider right now.</summary>
    InProgress,

    /// <summary>The provider could not be reached or its answer was lost; the intent is failed or parked.</summary>
    ProviderUnavailable,
    ProviderRefused,
}

internal sealed record IntentResult(IntentOutcome Outcome, Payment? Payment = null);

/// <summary>
/// Starts paying an order: one active intent per order (a unique index: concurrent requests, and
/// retries with other keys, get the same one), its amount the order's frozen total, created at the
/// provider under its own id, so asking again after a lost answer finds the same payment there.
/// No database transaction stays open while the provider is asked.
/// </summary>
internal sealed partial class PaymentIntents(
    PaymentsDbContext db, IOrderPayments orders, IPaymentProvider provider, SelfAddress self, PaymentSettlement settlement,
    IIdGenerator ids, TimeProvider clock, ILogger<PaymentIntents> logger)
{
    public const string Method = "simulator";

    /// <summary>How long a request may be asking the provider before another may take its intent over.</summary>
    public static readonly TimeSpan CreatingLease = TimeSpan.FromSeconds(15);

    public async Task<IntentResult> StartAsync(Guid orderId, Guid buyer, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var order = await orders.FindAsync(orderId, cancellationToken);
        if (order is null || order.UserId != buyer)
        {
            return new(IntentOutcome.NotFound);
        }
        if (order.Status != OrderStates.PendingPayment || order.PayBefore <= now || order.Total <= 0)
        {
            return new(IntentOutcome.NotPayable);
        }
        var payment = await ActiveAsync(orderId, cancellationToken);
        if (payment is null)
        {
            payment = Payment.Create(ids.NewId(), orderId, buyer, order.Total, Method, now);
            db.Payments.Add(payment);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (ex.IsUniqueViolation())
            {
                db.ChangeTracker.Clear();
                return await ActiveAsync(orderId, cancellationToken) is { Status: PaymentStatus.Pending } other
                    ? new(IntentOutcome.Ready, other)
                    : new(IntentOutcome.InProgress);
            }
        }
        else if (payment.Status == PaymentStatus.Pending)
        {
            return new(IntentOutcome.Ready, payment);
        }
        else if (payment.Status == PaymentStatus.Creating)
        {
            // Take it over only when its request has had its time (it died, or is slow beyond the read timeout).
            var stamp = payment.UpdatedAt;
            var takenOver = await db.Payments.Where(p => p.Id == payment.Id && p.Status == PaymentStatus.Creating && p.UpdatedAt == stamp && p.UpdatedAt <= now - CreatingLease)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.UpdatedAt, now), cancellationToken);
            if (takenOver == 0)
            {
                return new(IntentOutcome.InProgress);
            }
        }
        return await AskProviderAsync(payment, cancellationToken);
    }

    private Task<Payment?> ActiveAsync(Guid orderId, CancellationToken cancellationToken) =>
        db.Payments.AsNoTracking().SingleOrDefaultAsync(p => p.OrderId == orderId && PaymentStatus.Active.Contains(p.Status), cancellationToken);

    private async Task<IntentResult> AskProviderAsync(Payment payment, CancellationToken cancellationToken)
    {
        ProviderPayment created;
        try
        {
            created = await provider.CreateAsync(
                new ProviderPaymentRequest(payment.Id, payment.Amount, payment.Currency, $"FlashMall order {payment.OrderId}", self.NotifyUrl()), cancellationToken);
        }
        catch (PaymentProviderException ex)
        {
            LogProviderFailed(logger, ex, payment.Id, ex.Failure);
            var (status, reason, outcome) = ex.Failure switch
            {
                ProviderFailure.NotSent => (PaymentStatus.Failed, "provider_unavailable", IntentOutcome.ProviderUnavailable),
                ProviderFailure.Refused => (PaymentStatus.Failed, "provider_refused", IntentOutcome.ProviderRefused),
                _ => (PaymentStatus.Unknown, "provider_timeout", IntentOutcome.ProviderUnavailable),
            };
            var now = clock.GetUtcNow();
            await db.Payments.Where(p => p.Id == payment.Id && PaymentStatus.Active.Contains(p.Status))
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, status).SetProperty(p => p.Reason, reason).SetProperty(p => p.UpdatedAt, now), CancellationToken.None);
            return new(outcome);
        }
        await ApplyAsync(payment, created, CancellationToken.None);
        var current = await db.Payments.AsNoTracking().SingleAsync(p => p.Id == payment.Id, CancellationToken.None);
        return current.Status switch
        {
            PaymentStatus.Pending => new(IntentOutcome.Ready, current),
            PaymentStatus.Succeeded or PaymentStatus.RefundDue => new(IntentOutcome.NotPayable),
            PaymentStatus.Failed => new(IntentOutcome.ProviderRefused),
            _ => new(IntentOutcome.ProviderUnavailable),
        };
    }

    /// <summary>Takes the provider's record of an active intent as ours (also from the reconciliation job).</summary>
    public async Task ApplyAsync(Payment payment, ProviderPayment record, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        switch (record.Status)
        {
            case "pending":
                await db.Payments.Where(p => p.Id == payment.Id && PaymentStatus.Active.Contains(p.Status))
                    .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Pending).SetProperty(p => p.ProviderRef, record.ProviderRef)
                        .SetProperty(p => p.PayUrl, record.PayUrl).SetProperty(p => p.Reason, (string?)null).SetProperty(p => p.UpdatedAt, now), cancellationToken);
                break;
            case "succeeded":
                await settlement.SucceededAsync(payment.Id, record.Amount, record.Currency, eventId: null, cancellationToken);
                break;
            case "failed":
                await settlement.FailedAsync(payment.Id, eventId: null, "declined", cancellationToken);
                break;
            default:
                // A status we do not know (processing, awaiting the buyer's bank …) decides nothing: park it.
                var reason = $"provider_status:{record.Status}"[..Math.Min(100, 16 + record.Status.Length)];
                await db.Payments.Where(p => p.Id == payment.Id && PaymentStatus.Active.Contains(p.Status))
                    .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Unknown).SetProperty(p => p.ProviderRef, record.ProviderRef)
                        .SetProperty(p => p.Reason, reason)
                        .SetProperty(p => p.UpdatedAt, now), cancellationToken);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Asking the payment provider for payment {PaymentId} failed ({Failure})")]
    private static partial void LogProviderFailed(ILogger logger, Exception exception, Guid paymentId, ProviderFailure failure);
}
