using FlashMall.Kernel.Scheduling;
using FlashMall.Ordering.Domain;
using FlashMall.Ordering.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace FlashMall.Ordering.Workers;

/// <summary>Cancels unpaid orders past their <c>payBefore</c>; their flash-sale units go back to the sale.</summary>
internal sealed partial class ExpireUnpaidOrdersJob(OrderingDbContext db, OrderCancellation cancellation, TimeProvider clock, ILogger<ExpireUnpaidOrdersJob> logger)
    : IScheduledJob
{
    public const string Name = "ordering.expire-unpaid";
    public const int BatchSize = 500;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var now = clock.GetUtcNow();
            var due = await db.Orders.AsNoTracking()
                .Where(o => o.Status == OrderStatus.PendingPayment && o.PayBefore <= now)
                .OrderBy(o => o.PayBefore)
                .Select(o => o.Id)
                .Take(BatchSize)
                .ToListAsync(cancellationToken);
            var failed = 0;
            foreach (var orderId in due)
            {
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
            if (due.Count < BatchSize || failed == due.Count)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Order {OrderId} is past its payment deadline but could not be cancelled; the next run tries again")]
    private static partial void LogCancelFailed(ILogger logger, Exception exception, Guid orderId);
}
