using FlashMall.Contracts.Payments;
using FlashMall.Kernel.Scheduling;
using FlashMall.Ordering.Domain;
using FlashMall.Ordering.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Ordering.Workers;

/// <summary>
/// Cancels unpaid orders past their <c>payBefore</c>; their stock or flash-sale units go back. An
/// order with a payment under way at the provider gets <c>Ordering:PaymentGrace</c> more, so a
/// buyer who paid in time is not cancelled (and refunded) because the webhook is late.
/// </summary>
internal sealed partial class ExpireUnpaidOrdersJob(
    OrderingDbContext db, OrderCancellation cancellation, IOpenPayments payments, IOptions<OrderingOptions> options, TimeProvider clock,
    ILogger<ExpireUnpaidOrdersJob> logger) : IScheduledJob
{
    public const string Name = "ordering.expire-unpaid";
    public const int BatchSize = 500;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var graced = new HashSet<Guid>();
        while (true)
        {
            var now = clock.GetUtcNow();
            var due = await db.Orders.AsNoTracking()
                .Where(o => o.Status == OrderStatus.PendingPayment && o.PayBefore <= now && !graced.Contains(o.Id))
                .OrderBy(o => o.PayBefore)
                .Select(o => new { o.Id, o.PayBefore })
                .Take(BatchSize)
                .ToListAsync(cancellationToken);
            var underWay = await payments.UnderWayAsync([.. due.Select(o => o.Id)], cancellationToken);
            var failed = 0;
            var waiting = 0;
            foreach (var (orderId, payBefore) in due.Select(o => (o.Id, o.PayBefore)))
            {
                if (underWay.Contains(orderId) && payBefore + options.Value.PaymentGrace > now)
                {
                    graced.Add(orderId);
                    waiting++;
                    continue;
                }
                try
                {
                    await cancellation.CancelAsync(orderId, buyer: null, OrderCancellation.PaymentTimeout, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // One order that cannot be cancelled now must not keep the others from expiring.
                    LogCancelFailed(logger, ex, orderId);
                    failed++;
                }
                db.ChangeTracker.Clear(); // the outbox rows of cancelled orders are saved; do not keep tracking them
            }
            if (due.Count < BatchSize || failed + waiting == due.Count)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Order {OrderId} is past its payment deadline but could not be cancelled; the next run tries again")]
    private static partial void LogCancelFailed(ILogger logger, Exception exception, Guid orderId);
}
