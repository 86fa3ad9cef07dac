using FlashMall.Kernel.Scheduling;
using FlashMall.Payments.Domain;
using FlashMall.Payments.Persistence;
using FlashMall.Payments.Provider;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Payments.Jobs;

/// <summary>
/// Compares our payments with the provider's records and settles what webhooks did not: an
/// intent parked (<c>unknown</c>), stuck (<c>creating</c>), unanswered (<c>pending</c>) or declined
/// (the buyer may have paid after all) past <c>Payments:Reconciliation:After</c> takes the
/// provider's status (a capture whose webhook was lost pays its order; one the provider never saw
/// fails), each looked at again only after another interval; a capture no order could take
/// (<c>refund_due</c>) and a refund left under way are refunded, and one the provider refuses for
/// good turns <c>refund_failed</c> for an operator without holding up the others. No paid order is
/// lost and none is charged twice. It stops when the provider is down; the next run goes on.
/// </summary>
internal sealed partial class ReconcilePaymentsJob(
    PaymentsDbContext db, IPaymentProvider provider, PaymentIntents intents, PaymentSettlement settlement, IOptions<PaymentsOptions> options,
    TimeProvider clock, ILogger<ReconcilePaymentsJob> logger) : IScheduledJob
{
    public const string Name = "payments.reconcile";
    public const int BatchSize = 200;

    /// <summary>An intent nobody paid is looked up no longer than this after it was made.</summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromDays(2);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var due = now - options.Value.Reconciliation.After;
        var oldest = now - GiveUpAfter;
        var settled = 0;
        var refunded = 0;
        try
        {
            // Parked and stuck intents first, then unanswered ones, then declines a buyer may still have completed.
            var unsettled = await db.Payments.AsNoTracking()
                .Where(p => (PaymentStatus.Active.Contains(p.Status) || (p.Status == PaymentStatus.Failed && PaymentStatus.CompletableFailures.Contains(p.Reason!)))
                    && p.UpdatedAt <= due && p.CreatedAt >= oldest)
                .OrderBy(p => p.Status == PaymentStatus.Unknown || p.Status == PaymentStatus.Creating ? 0 : p.Status == PaymentStatus.Pending ? 1 : 2)
                .ThenBy(p => p.UpdatedAt)
                .Take(BatchSize).ToListAsync(cancellationToken);
            foreach (var payment in unsettled)
            {
                try
                {
                    if (await provider.FindAsync(payment.Id, cancellationToken) is { } record)
                    {
                        await intents.ApplyAsync(payment, record, cancellationToken);
                    }
                    else if (payment.Status != PaymentStatus.Failed)
                    {
                        await settlement.FailedAsync(payment.Id, eventId: null, "unknown_to_provider", cancellationToken);
                    }
                }
                catch (PaymentProviderException ex) when (ex.Failure == ProviderFailure.Refused)
                {
                    LogLookupRefused(logger, payment.Id, ex.Message);
                }
                // Whatever came of it, look at this one again only after another interval.
                await db.Payments.Where(p => p.Id == payment.Id && p.UpdatedAt <= due)
                    .ExecuteUpdateAsync(s => s.SetProperty(p => p.UpdatedAt, now), cancellationToken);
                settled++;
            }

            var refunds = await db.Payments.AsNoTracking()
                .Where(p => p.Status == PaymentStatus.RefundDue || (p.Status == PaymentStatus.Refunding && p.UpdatedAt <= due))
                .OrderBy(p => p.UpdatedAt).Take(BatchSize).ToListAsync(cancellationToken);
            foreach (var payment in refunds)
            {
                if (!await settlement.BeginDueRefundAsync(payment.Id, cancellationToken))
                {
                    continue;
                }
                try
                {
                    await provider.RefundAsync(payment.Id, payment.Amount, cancellationToken);
                }
                catch (PaymentProviderException ex) when (ex.Failure == ProviderFailure.Refused)
                {
                    await settlement.RefundRefusedAsync(payment.Id, ex.Message, cancellationToken);
                    continue;
                }
                await settlement.RefundedAsync(payment.Id, eventId: null, cancellationToken);
                refunded++;
            }
        }
        catch (PaymentProviderException ex)
        {
            // Unreachable or unanswered: the provider is down; the next run goes on where this one stopped.
            LogProviderFailed(logger, ex, settled, refunded);
            return;
        }
        if (settled + refunded > 0)
        {
            LogReconciled(logger, settled, refunded);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The provider refused to look up payment {PaymentId} ({Why}); it is looked at again next interval")]
    private static partial void LogLookupRefused(ILogger logger, Guid paymentId, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payments reconciled with the provider: {Settled} intents looked up, {Refunded} refunds completed")]
    private static partial void LogReconciled(ILogger logger, int settled, int refunded);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciliation stopped at a provider failure after {Settled} intents and {Refunded} refunds; the next run goes on")]
    private static partial void LogProviderFailed(ILogger logger, Exception exception, int settled, int refunded);
}
