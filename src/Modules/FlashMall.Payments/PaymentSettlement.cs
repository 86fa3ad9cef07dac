using FlashMall.Contracts.Ordering;
using FlashMall.Kernel.Persistence;
using FlashMall.Payments.Domain;
using FlashMall.Payments.Persistence;
using FlashMall.Payments.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;

namespace FlashMall.Payments;

internal enum SettleOutcome
{
    /// <summary>The payment (and its order) changed.</summary>
    Applied,

    /// <summary>Nothing to change: it was already past this point (a late or out-of-order event).</summary>
    AlreadySettled,

    /// <summary>This provider event id was acted on before: nothing changed.</summary>
    Replayed,

    UnknownPayment,

    /// <summary>The provider reports another amount than we asked for: nothing changed, an operator looks.</summary>
    AmountMismatch,
}

/// <summary>
/// Applies what the provider says happened, from a webhook or from the reconciliation job. Each
/// change is one conditional update of the payment in one transaction with the provider event's id
/// (a unique key: a replay fails on it and changes nothing) and the order's own transition, so an
/// order is paid exactly once however many events arrive, in whatever order, at once or late.
/// A capture the order cannot take (cancelled meanwhile, or paid by another payment) becomes
/// <c>refund_due</c> and is given back by the reconciliation job: money is never kept for nothing.
/// </summary>
internal sealed partial class PaymentSettlement(PaymentsDbContext db, IOrderPayments orders, TimeProvider clock, ILogger<PaymentSettlement> logger)
{
    public const string OperatorRefund = "operator_refund";
    public const string OrderNotPayable = "order_not_payable";

    public async Task<SettleOutcome> SucceededAsync(Guid paymentId, long amount, string? eventId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (payment, refusal) = await BeginAsync(paymentId, eventId, ProviderEvent.PaymentSucceeded, cancellationToken);
        if (payment is null)
        {
            return refusal;
        }
        if (payment.Amount != amount)
        {
            LogAmountMismatch(logger, paymentId, payment.Amount, amount);
            return SettleOutcome.AmountMismatch;
        }
        var now = clock.GetUtcNow();
        var captured = await db.Payments.Where(p => p.Id == paymentId && PaymentStatus.Capturable.Contains(p.Status))
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Succeeded).SetProperty(p => p.Reason, (string?)null).SetProperty(p => p.UpdatedAt, now), cancellationToken);
        if (captured == 1 && !await orders.MarkPaidAsync(payment.OrderId, paymentId, transaction.GetDbTransaction(), cancellationToken))
        {
            LogRefundDue(logger, paymentId, payment.OrderId);
            await db.Payments.Where(p => p.Id == paymentId)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.RefundDue).SetProperty(p => p.Reason, OrderNotPayable), cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return captured == 1 ? SettleOutcome.Applied : SettleOutcome.AlreadySettled;
    }

    public async Task<SettleOutcome> FailedAsync(Guid paymentId, string? eventId, string reason, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (payment, refusal) = await BeginAsync(paymentId, eventId, ProviderEvent.PaymentFailed, cancellationToken);
        if (payment is null)
        {
            return refusal;
        }
        var now = clock.GetUtcNow();
        var failed = await db.Payments.Where(p => p.Id == paymentId && PaymentStatus.Active.Contains(p.Status))
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Failed).SetProperty(p => p.Reason, reason).SetProperty(p => p.UpdatedAt, now), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return failed == 1 ? SettleOutcome.Applied : SettleOutcome.AlreadySettled;
    }

    /// <summary>
    /// <c>succeeded</c> (an operator's refund) or <c>refund_due</c> becomes <c>refunding</c> before the
    /// provider is asked, so two refunds of one payment cannot both start; false when it is in neither
    /// (a refund already under way may be asked again: the provider refunds once).
    /// </summary>
    public async Task<bool> BeginRefundAsync(Guid paymentId, bool byOperator, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var started = byOperator
            ? await db.Payments.Where(p => p.Id == paymentId && p.Status == PaymentStatus.Succeeded)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Refunding).SetProperty(p => p.UpdatedAt, now)
                    .SetProperty(p => p.Reason, OperatorRefund), cancellationToken)
            : await db.Payments.Where(p => p.Id == paymentId && p.Status == PaymentStatus.RefundDue)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Refunding).SetProperty(p => p.UpdatedAt, now), cancellationToken);
        return started == 1 || await db.Payments.AnyAsync(p => p.Id == paymentId && p.Status == PaymentStatus.Refunding, cancellationToken);
    }

    /// <summary><c>refunding → refunded</c>; an operator's refund also moves its order <c>paid → refunded</c> in the same transaction.</summary>
    public async Task<SettleOutcome> RefundedAsync(Guid paymentId, string? eventId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (payment, refusal) = await BeginAsync(paymentId, eventId, ProviderEvent.RefundSucceeded, cancellationToken);
        if (payment is null)
        {
            return refusal;
        }
        var now = clock.GetUtcNow();
        var refunded = await db.Payments.Where(p => p.Id == paymentId && p.Status == PaymentStatus.Refunding)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Refunded).SetProperty(p => p.UpdatedAt, now), cancellationToken);
        if (refunded == 1 && payment.Reason == OperatorRefund)
        {
            await orders.MarkRefundedAsync(payment.OrderId, transaction.GetDbTransaction(), cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return refunded == 1 ? SettleOutcome.Applied : SettleOutcome.AlreadySettled;
    }

    /// <summary>Records the event id (null from reconciliation, which has none) and reads the payment; null and why when there is nothing to do.</summary>
    private async Task<(Payment? Payment, SettleOutcome Refusal)> BeginAsync(Guid paymentId, string? eventId, string type, CancellationToken cancellationToken)
    {
        var payment = await db.Payments.AsNoTracking().SingleOrDefaultAsync(p => p.Id == paymentId, cancellationToken);
        if (payment is null)
        {
            return (null, SettleOutcome.UnknownPayment);
        }
        if (eventId is not null)
        {
            db.WebhookEvents.Add(new ProcessedWebhookEvent(eventId, type, paymentId, clock.GetUtcNow()));
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (ex.IsUniqueViolation())
            {
                db.ChangeTracker.Clear();
                return (null, SettleOutcome.Replayed);
            }
        }
        return (payment, SettleOutcome.Applied);
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Payment {PaymentId} is for {Expected} fen but the provider reports {Reported}; nothing changed, look at it")]
    private static partial void LogAmountMismatch(ILogger logger, Guid paymentId, long expected, long reported);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId} was captured but order {OrderId} no longer awaits payment; it will be refunded")]
    private static partial void LogRefundDue(ILogger logger, Guid paymentId, Guid orderId);
}
