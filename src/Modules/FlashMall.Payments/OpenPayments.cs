using FlashMall.Contracts.Payments;
using FlashMall.Payments.Domain;
using FlashMall.Payments.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Payments;

/// <summary>Orders with an active intent (<c>creating</c>, <c>pending</c>, <c>unknown</c>): their outcome may still be a capture.</summary>
internal sealed class OpenPayments(PaymentsDbContext db) : IOpenPayments
{
    public async Task<IReadOnlySet<Guid>> UnderWayAsync(IReadOnlyCollection<Guid> orderIds, CancellationToken cancellationToken = default) =>
        orderIds.Count == 0
            ? new HashSet<Guid>()
            : (await db.Payments.AsNoTracking()
                .Where(p => orderIds.Contains(p.OrderId) && PaymentStatus.Active.Contains(p.Status))
                .Select(p => p.OrderId).ToListAsync(cancellationToken)).ToHashSet();
}
