using FlashMall.Kernel.Scheduling;
using FlashMall.Ordering.Domain;
using FlashMall.Ordering.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Ordering.Workers;

/// <summary>Cancels unpaid orders past their <c>payBefore</c>; their flash-sale units go back to the sale.</summary>
internal sealed class ExpireUnpaidOrdersJob(OrderingDbContext db, OrderCancellation cancellation, TimeProvider clock) : IScheduledJob
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
            foreach (var orderId in due)
            {
                await cancellation.CancelAsync(orderId, buyer: null, OrderCancellation.PaymentTimeout, cancellationToken);
            }
            if (due.Count < BatchSize)
            {
                return;
            }
        }
    }
}
