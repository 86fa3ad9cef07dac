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

    public async Task<SettleOutcome> SucceededAsync(Guid paymentId, long amount, string currency, string? eventId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (payment, refusal) = await BeginAsync(paymentId, eventId, ProviderEvent.PaymentSucceeded, cancellationToken);
        if (payment is null)
        {
            return refusal;
        }
        if (payment.Amount != amount || payment.Currency != currency)
        {
            LogAmountMismatch(logger, paymentId, payment.Amount, payment.Currency, amount, currency);
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
    /// An operator's refund starts: in one transaction the payment goes <c>succeeded → refunding</c>
    /// and its order <c>paid → refunded</c>, before the provider is asked, so nothing can ship the
    /// order meanwhile and two refunds cannot both start; the provider's refund then follows (from
    /// the endpoint, or from reconciliation if the provider is down). False, and nothing changed,
    /// when the payment is not a capture or the order is no longer paid.
    /// </summary>
    public async Task<bool> BeginOperatorRefundAsync(Payment payment, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var started = await db.Payments.Where(p => p.Id == payment.Id && p.Status == PaymentStatus.Succeeded)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Refunding).SetProperty(p => p.UpdatedAt, now)
                .SetProperty(p => p.Reason, OperatorRefund), cancellationToken);
        if (started == 0 || !await orders.MarkRefundedAsync(payment.OrderId, transaction.GetDbTransaction(), cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>A capture no order could take starts its refund (<c>refund_due → refunding</c>); true also when one is under way already (the provider refunds once).</summary>
    public async Task<bool> BeginDueRefundAsync(Guid paymentId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var started = await db.Payments.Where(p => p.Id == paymentId && (p.Status == PaymentStatus.RefundDue || p.Status == PaymentStatus.Refunding))
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Refunding).SetProperty(p => p.UpdatedAt, now), cancellationToken);
        return started == 1;
    }

    /// <summary>The provider refused a refund for good: <c>refunding → refund_failed</c>, for an operator.</summary>
    public async Task RefundRefusedAsync(Guid paymentId, string why, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await db.Payments.Where(p => p.Id == paymentId && p.Status == PaymentStatus.Refunding)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.RefundFailed).SetProperty(p => p.UpdatedAt, now), cancellationToken);
        LogRefundRefused(logger, paymentId, why);
    }

    /// <summary>
    /// <c>refunding → refunded</c>. A refund made at the provider (its dashboard) arrives for a
    /// <c>succeeded</c> payment: that payment turns <c>refunded</c> too, and its order
    /// <c>paid → refunded</c> in the same transaction (an order shipped already is logged for an operator).
    /// </summary>
    public async Task<SettleOutcome> RefundedAsync(Guid paymentId, string? eventId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (payment, refusal) = await BeginAsync(paymentId, eventId, ProviderEvent.RefundSucceeded, cancellationToken);
        if (payment is null)
        {
            return refusal;
        }
        var now = clock.GetUtcNow();
        var refunded = await db.Payments.Where(p => p.Id == paymentId && (p.Status == PaymentStatus.Refunding || p.Status == PaymentStatus.Succeeded))
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Refunded).SetProperty(p => p.UpdatedAt, now), cancellationToken);
        if (refunded == 1 && payment.Status == PaymentStatus.Succeeded
            && !await orders.MarkRefundedAsync(payment.OrderId, transaction.GetDbTransaction(), cancellationToken))
        {
            LogRefundedElsewhere(logger, paymentId, payment.OrderId);
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

    [LoggerMessage(Level = LogLevel.Critical, Message = "Payment {PaymentId} is for {Expected} {ExpectedCurrency} but the provider reports {Reported} {ReportedCurrency}; nothing changed, look at it")]
    private static partial void LogAmountMismatch(ILogger logger, Guid paymentId, long expected, string expectedCurrency, long reported, string reportedCurrency);

    [LoggerMessage(Level = LogLevel.Error, Message = "The provider refused to refund payment {PaymentId} ({Why}); it is refund_failed: settle it by hand")]
    private static partial void LogRefundRefused(ILogger logger, Guid paymentId, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId} was refunded at the provider but order {OrderId} is no longer paid (shipped?); look at it")]
    private static partial void LogRefundedElsewhere(ILogger logger, Guid paymentId, Guid orderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId} was captured but order {OrderId} no longer awaits payment; it will be refunded")]
    private static partial void LogRefundDue(ILogger logger, Guid paymentId, Guid orderId);
}
