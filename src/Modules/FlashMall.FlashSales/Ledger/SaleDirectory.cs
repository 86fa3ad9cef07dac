using System.Collections.Concurrent;
using FlashMall.FlashSales.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.FlashSales.Ledger;

/// <summary>
/// The terms of every sale this node has seen, in memory: a purchase's window check and the
/// ledger's limits cost no I/O once a sale is known. Sale terms do not change after creation.
/// </summary>
internal sealed class SaleDirectory(IServiceScopeFactory scopes)
{
    private readonly ConcurrentDictionary<Guid, SaleTerms> _terms = new();

    public async ValueTask<SaleTerms?> FindAsync(Guid saleId, CancellationToken cancellationToken)
    {
        if (_terms.TryGetValue(saleId, out var known))
        {
            return known;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FlashSalesDbContext>();
        var terms = await db.Sales.AsNoTracking()
            .Where(s => s.Id == saleId)
            .Select(s => new SaleTerms(s.Id, s.Quantity, s.PerUserLimit, s.StartsAt, s.EndsAt))
            .SingleOrDefaultAsync(cancellationToken);
        return terms is null ? null : _terms.GetOrAdd(saleId, terms);
    }
}
