using FlashMall.Catalog.Domain;
using FlashMall.Contracts.Catalog;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Catalog.Persistence;

/// <summary>Products as the search index needs them: two queries per batch (products with SKUs, the categories on their paths).</summary>
/// <remarks>
/// The search fallback (<see cref="SearchAsync"/>) reads from a replica when one is within the lag
/// threshold; the indexer's reads (<see cref="ReadPageAsync"/>, <see cref="FindAsync"/>) and the
/// margins stay on the primary: the indexer must see the change whose event it handles.
/// </remarks>
internal sealed class CatalogSearchSource(CatalogDbContext db, ReadReplica<CatalogDbContext> replica) : ICatalogSearchSource, ICatalogProductSearch
{
    /// <summary>At most this many words take part (each is a scan of three columns).</summary>
    public const int MaxWords = 8;

    /// <summary>
    /// A scan of the products, never an index: each word must be in the name, brand or description
    /// (<c>Contains</c> on lower-cased text, so no word is read as a LIKE pattern); relevance puts
    /// names holding the words first, then sales; ties by id. Facets count all matches by leaf
    /// category and by brand (two grouped scans). Cancel the token to bound it.
    /// </summary>
#pragma warning disable CA1304, CA1311, CA1862 // Translated to SQL lower() and instr/strpos: neither a culture nor a comparison overload applies.
    public async Task<CatalogSearchPage> SearchAsync(CatalogSearchRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var words = request.Words.Where(w => w.Length > 0).Select(w => w.ToLowerInvariant()).Distinct(StringComparer.Ordinal).Take(MaxWords).ToList();
        var read = replica.Db;
        var query = read.Products.AsNoTracking().Where(p => !p.Deleted);
        foreach (var word in words)
        {
            query = query.Where(p => p.Name.ToLower().Contains(word) || p.Brand.ToLower().Contains(word) || p.Description.ToLower().Contains(word));
        }
        if (request.CategoryId is { } categoryId)
        {
            var path = await read.Categories.AsNoTracking().Where(c => c.Id == categoryId).Select(c => c.Path).SingleOrDefaultAsync(cancellationToken);
            if (path is null)
            {
                return new CatalogSearchPage([], 0, [], []);
            }
            var subtree = read.Categories.Where(c => c.Path.StartsWith(path)).Select(c => c.Id);
            query = query.Where(p => subtree.Contains(p.CategoryId));
        }
        if (request.Brand is { } brand)
        {
            query = query.Where(p => p.Brand == brand);
        }
        if (request.PriceMin is { } min)
        {
            query = query.Where(p => p.MinPrice >= min);
        }
        if (request.PriceMax is { } max)
        {
            query = query.Where(p => p.MinPrice <= max);
        }
        var total = await query.CountAsync(cancellationToken);
        if (total == 0)
        {
            return new CatalogSearchPage([], 0, [], []);
        }
        var categories = await query.GroupBy(p => p.CategoryId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var brands = await query.GroupBy(p => p.Brand).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        IOrderedQueryable<Product> ordered;
        switch (request.Order)
        {
            case CatalogSearchOrder.PriceAscending:
                ordered = query.OrderBy(p => p.MinPrice);
                break;
            case CatalogSearchOrder.PriceDescending:
                ordered = query.OrderByDescending(p => p.MinPrice);
                break;
            case CatalogSearchOrder.Newest:
                ordered = query.OrderByDescending(p => p.CreatedAt);
                break;
            case CatalogSearchOrder.Sales:
                ordered = query.OrderByDescending(p => p.Sales);
                break;
            default:
                ordered = query.OrderBy(p => 0);
                foreach (var word in words)
                {
                    ordered = ordered.ThenByDescending(p => p.Name.ToLower().Contains(word));
                }
                ordered = ordered.ThenByDescending(p => p.Sales);
                break;
        }
        var products = await ordered.ThenBy(p => p.Id).Skip(request.Skip).Take(request.Take)
            .Include(p => p.Skus).AsSplitQuery().ToListAsync(cancellationToken);
        return new CatalogSearchPage(await ToSearchableAsync(read, products, cancellationToken), total,
            Top(categories.Select(c => new CatalogFacetCount(c.Key.ToString(), c.Count))),
            Top(brands.Select(b => new CatalogFacetCount(b.Key, b.Count))));
    }
#pragma warning restore CA1304, CA1311, CA1862

    public async Task<IReadOnlyList<SearchableProduct>> ReadPageAsync(Guid? afterId, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var query = db.Products.AsNoTracking().Include(p => p.Skus).Where(p => !p.Deleted);
        if (afterId is { } after)
        {
            query = query.Where(p => p.Id.CompareTo(after) > 0);
        }
        var products = await query.OrderBy(p => p.Id).Take(limit).AsSplitQuery().ToListAsync(cancellationToken);
        return await ToSearchableAsync(db, products, cancellationToken);
    }

    public async Task<IReadOnlyList<SearchableProduct>> FindAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken = default)
    {
        if (productIds.Count == 0)
        {
            return [];
        }
        var products = await db.Products.AsNoTracking().Include(p => p.Skus)
            .Where(p => productIds.Contains(p.Id) && !p.Deleted).AsSplitQuery().ToListAsync(cancellationToken);
        return await ToSearchableAsync(db, products, cancellationToken);
    }

    public async Task<IReadOnlyDictionary<Guid, long>> MarginsAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken = default)
    {
        if (productIds.Count == 0)
        {
            return new Dictionary<Guid, long>();
        }
        var skus = await db.Skus.AsNoTracking().Where(s => productIds.Contains(s.ProductId) && !s.Removed)
            .Select(s => new { s.ProductId, s.Code, s.Price, s.Cost }).ToListAsync(cancellationToken);
        var margins = new Dictionary<Guid, long>();
        foreach (var product in skus.GroupBy(s => s.ProductId))
        {
            var cheapest = product.OrderBy(s => s.Price).ThenBy(s => s.Code, StringComparer.Ordinal).First();
            if (cheapest.Cost is { } cost)
            {
                margins[product.Key] = cheapest.Price - cost;
            }
        }
        return margins;
    }

    private static async Task<IReadOnlyList<SearchableProduct>> ToSearchableAsync(CatalogDbContext db, List<Product> products, CancellationToken cancellationToken)
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

    /// <summary>Most frequent first, ties by value (ordinal, as the engines order them), at most <see cref="ICatalogProductSearch.MaxFacetValues"/>.</summary>
    private static List<CatalogFacetCount> Top(IEnumerable<CatalogFacetCount> counts) =>
        [.. counts.OrderByDescending(c => c.Count).ThenBy(c => c.Value, StringComparer.Ordinal).Take(ICatalogProductSearch.MaxFacetValues)];

    /// <summary>The ids of <c>/a/b/c/</c>, root first.</summary>
    private static List<Guid> PathOf(Category category) =>
        [.. category.Path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Guid.Parse)];
}
