using System.Collections.Concurrent;
using FlashMall.FlashSales.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.FlashSales.Ledger;

/// <summary>
/// The terms of every sale this node has seen, in memory: a purchase's window check and the
/// ledger's limits cost no I/O once a sale is known. Sale terms do not change after creation.
/// An id that is no sale is remembered as such for a few seconds (at most
/// <see cref="MaxMissing"/> of them), so a flood of random ids costs one query each per window.
/// </summary>
internal sealed class SaleDirectory(IServiceScopeFactory scopes, TimeProvider clock)
{
    public const int MaxMissing = 10_000;
    private static readonly TimeSpan MissingFor = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<Guid, SaleTerms> _terms = new();
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _missing = new();

    public async ValueTask<SaleTerms?> FindAsync(Guid saleId, CancellationToken cancellationToken)
    {
        if (_terms.TryGetValue(saleId, out var known))
        {
            return known;
        }
        var now = clock.GetUtcNow();
        if (_missing.TryGetValue(saleId, out var until) && until > now)
        {
            return null;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FlashSalesDbContext>();
        var terms = await db.Sales.AsNoTracking()
            .Where(s => s.Id == saleId)
            .Select(s => new SaleTerms(s.Id, s.Quantity, s.PerUserLimit, s.StartsAt, s.EndsAt))
            .SingleOrDefaultAsync(cancellationToken);
        if (terms is null)
        {
            if (_missing.Count >= MaxMissing)
            {
                _missing.Clear();
            }
            _missing[saleId] = now + MissingFor;
            return null;
        }
        _missing.TryRemove(saleId, out _);
        return _terms.GetOrAdd(saleId, terms);
    }
}
