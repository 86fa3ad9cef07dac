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
/// intent parked (<c>unknown</c>), stuck (<c>creating</c>) or unanswered (<c>pending</c>) past
/// <c>Payments:Reconciliation:After</c> takes the provider's status (a capture whose webhook was
/// lost pays its order; one the provider never saw fails); a capture no order could take
/// (<c>refund_due</c>) and a refund left under way are refunded. No paid order is lost and none is
/// charged twice. It stops at the first provider failure; the next run goes on.
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
            var unsettled = await db.Payments.AsNoTracking()
                .Where(p => PaymentStatus.Active.Contains(p.Status) && p.UpdatedAt <= due && p.CreatedAt >= oldest)
                .OrderBy(p => p.UpdatedAt).Take(BatchSize).ToListAsync(cancellationToken);
            foreach (var payment in unsettled)
            {
                if (await provider.FindAsync(payment.Id, cancellationToken) is { } record)
                {
                    await intents.ApplyAsync(payment, record, cancellationToken);
                    if (record.Status == "pending")
                    {
                        // Still unpaid there: look again after another interval, not every run.
                        await db.Payments.Where(p => p.Id == payment.Id && p.Status == PaymentStatus.Pending)
                            .ExecuteUpdateAsync(s => s.SetProperty(p => p.UpdatedAt, now), cancellationToken);
                    }
                }
                else
                {
                    await settlement.FailedAsync(payment.Id, eventId: null, "unknown_to_provider", cancellationToken);
                }
                settled++;
            }

            var refunds = await db.Payments.AsNoTracking()
                .Where(p => p.Status == PaymentStatus.RefundDue || (p.Status == PaymentStatus.Refunding && p.UpdatedAt <= due))
                .OrderBy(p => p.UpdatedAt).Take(BatchSize).ToListAsync(cancellationToken);
            foreach (var payment in refunds)
            {
                if (!await settlement.BeginRefundAsync(payment.Id, byOperator: false, cancellationToken))
                {
                    continue;
                }
                await provider.RefundAsync(payment.Id, payment.Amount, cancellationToken);
                await settlement.RefundedAsync(payment.Id, eventId: null, cancellationToken);
                refunded++;
            }
        }
        catch (PaymentProviderException ex)
        {
            LogProviderFailed(logger, ex, settled, refunded);
            return;
        }
        if (settled + refunded > 0)
        {
            LogReconciled(logger, settled, refunded);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Payments reconciled with the provider: {Settled} intents looked up, {Refunded} refunds completed")]
    private static partial void LogReconciled(ILogger logger, int settled, int refunded);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciliation stopped at a provider failure after {Settled} intents and {Refunded} refunds; the next run goes on")]
    private static partial void LogProviderFailed(ILogger logger, Exception exception, int settled, int refunded);
}
