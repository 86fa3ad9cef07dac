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

    public async Task<IReadOnlyDictionary<Guid, ProductCategory>> CategoriesAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken = default)
    {
        if (productIds.Count == 0)
        {
            return new Dictionary<Guid, ProductCategory>();
        }
        var ids = productIds.Distinct().ToList();
        return await db.Products.AsNoTracking().Where(p => ids.Contains(p.Id))
            .Join(db.Categories, p => p.CategoryId, c => c.Id, (p, c) => new { p.Id, CategoryId = c.Id, c.Name })
            .ToDictionaryAsync(x => x.Id, x => new ProductCategory(x.CategoryId, x.Name), cancellationToken);
    }
}
