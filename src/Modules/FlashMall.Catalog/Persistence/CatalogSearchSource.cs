using FlashMall.Catalog.Domain;
using FlashMall.Contracts.Catalog;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Catalog.Persistence;

/// <summary>Products as the search index needs them: two queries per batch (products with SKUs, the categories on their paths).</summary>
internal sealed class CatalogSearchSource(CatalogDbContext db) : ICatalogSearchSource
{
    public async Task<IReadOnlyList<SearchableProduct>> ReadPageAsync(Guid? afterId, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var query = db.Products.AsNoTracking().Include(p => p.Skus).Where(p => !p.Deleted);
        if (afterId is { } after)
        {
            query = query.Where(p => p.Id.CompareTo(after) > 0);
        }
        var products = await query.OrderBy(p => p.Id).Take(limit).AsSplitQuery().ToListAsync(cancellationToken);
        return await ToSearchableAsync(products, cancellationToken);
    }

    public async Task<IReadOnlyList<SearchableProduct>> FindAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken = default)
    {
        if (productIds.Count == 0)
        {
            return [];
        }
        var products = await db.Products.AsNoTracking().Include(p => p.Skus)
            .Where(p => productIds.Contains(p.Id) && !p.Deleted).AsSplitQuery().ToListAsync(cancellationToken);
        return await ToSearchableAsync(products, cancellationToken);
    }

    private async Task<IReadOnlyList<SearchableProduct>> ToSearchableAsync(List<Product> products, CancellationToken cancellationToken)
    {
        var leafIds = products.Select(p => p.CategoryId).Distinct().ToList();
        var leaves = await db.Categories.AsNoTracking().Where(c => leafIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, cancellationToken);
        var pathIds = leaves.Values.SelectMany(PathOf).Distinct().ToList();
        var names = await db.Categories.AsNoTracking().Where(c => pathIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);

        return [.. products.Select(p =>
        {
            var path = leaves.TryGetValue(p.CategoryId, out var leaf) ? PathOf(leaf) : [p.CategoryId];
            var skus = p.ActiveSkus.ToList();
            var stock = skus.Sum(s => (long)s.Stock);
            return new SearchableProduct(
                p.Id, p.Name, p.Description, p.Brand, p.CategoryId, path,
                [.. path.Where(names.ContainsKey).Select(id => names[id])],
                [.. skus.SelectMany(s => s.Attributes).Select(a => $"{a.Key} {a.Value}").Distinct(StringComparer.Ordinal)],
                p.MinPrice, p.Sales, (int)Math.Min(stock, int.MaxValue), p.ImageUrl, stock > 0, p.CreatedAt);
        })];
    }

    /// <summary>The ids of <c>/a/b/c/</c>, root first.</summary>
    private static List<Guid> PathOf(Category category) =>
        [.. category.Path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Guid.Parse)];
}
