using FlashMall.Contracts.Catalog;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Catalog.Persistence;

internal sealed class CatalogProducts(CatalogDbContext db) : ICatalogProducts
{
    public async Task<IReadOnlySet<Guid>> ExistingAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken = default)
    {
        if (productIds.Count == 0)
        {
            return new HashSet<Guid>();
        }
        var ids = productIds.Distinct().ToList();
        return (await db.Products.AsNoTracking().Where(p => ids.Contains(p.Id) && !p.Deleted).Select(p => p.Id).ToListAsync(cancellationToken)).ToHashSet();
    }
}
