using FlashMall.Catalog.Domain;
using FlashMall.Catalog.Persistence;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Catalog.Endpoints;

internal sealed record CategoryNode(string Id, string Name, IReadOnlyList<CategoryNode> Children);
internal sealed record ProductSummary(string Id, string Name, long Price, string? ImageUrl, long Sales, string Brand);
internal sealed record SkuDetail(string Id, string Code, IReadOnlyDictionary<string, string> Attributes, long Price, int Stock);
internal sealed record ProductDetail(
    string Id, string Name, string Description, string CategoryId, string Brand, IReadOnlyList<string> Images, string? ImageUrl,
    long Price, IReadOnlyList<SkuDetail> Skus, long Sales, DateTimeOffset UpdatedAt);

/// <summary>Public catalog reads: served from the two-tier cache as bytes with strong ETags.</summary>
internal static class CatalogEndpoints
{
    public static void MapCatalogEndpoints(this IEndpointRouteBuilder routes)
    {
        // GET and HEAD: CDNs and link checkers revalidate with HEAD.
        string[] getOrHead = [HttpMethods.Get, HttpMethods.Head];
        var catalog = routes.MapGroup("/api").WithTags("Catalog");
        catalog.MapMethods("/categories", getOrHead, GetCategories).Produces<CategoryNode[]>().NonCore();
        catalog.MapMethods("/products", getOrHead, ListProducts).Produces<PagedResponse<ProductSummary>>().NonCore();
        catalog.MapMethods("/products/{id}", getOrHead, GetProduct).Produces<ProductDetail>().Core().Produces(StatusCodes.Status304NotModified);
    }

    private static async Task<IResult> GetCategories(CatalogCache cache, CancellationToken cancellationToken)
    {
        var json = await cache.GetOrLoadAsync(CatalogCache.CategoriesKey, async (db, ct) => BuildTree(await db.Categories.AsNoTracking().ToListAsync(ct)),
            isList: false, cancellationToken);
        return new CachedJsonResult(json!, CachedJsonResult.PublicShortLived);
    }

    private static async Task<IResult> ListProducts(string? categoryId, PageRequest page, CatalogCache cache, CancellationToken cancellationToken)
    {
        Guid? category = null;
        if (!string.IsNullOrEmpty(categoryId))
        {
            if (!Guid.TryParse(categoryId, out var parsed))
            {
                return Problems.Validation("categoryId", "Not a category id.");
            }
            category = parsed;
        }

        var key = $"catalog:products:{category:N}:{page.Page}:{page.PageSize}";
        var json = await cache.GetOrLoadAsync(key, (db, ct) => LoadPageAsync(db, category, page, ct), isList: true, cancellationToken,
            keep: result => result.Items.Count > 0 || result.Page == 1);
        return json is null ? Problems.NotFound("category") : new CachedJsonResult(json, CachedJsonResult.PublicShortLived);
    }

    private static async Task<IResult> GetProduct(string id, CatalogCache cache, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var productId))
        {
            return Problems.NotFound("product");
        }
        var json = await cache.GetOrLoadAsync(CatalogCache.ProductKey(productId), (db, ct) => LoadProductAsync(db, productId, ct), isList: false, cancellationToken);
        return json is null ? Problems.NotFound("product") : new CachedJsonResult(json, CachedJsonResult.PublicShortLived);
    }

    /// <summary>Null when the category does not exist. A category lists its whole subtree, best sellers first.</summary>
    private static async Task<PagedResponse<ProductSummary>?> LoadPageAsync(CatalogDbContext db, Guid? categoryId, PageRequest page, CancellationToken cancellationToken)
    {
        var products = db.Products.AsNoTracking().Where(p => !p.Deleted);
        if (categoryId is { } id)
        {
            var path = await db.Categories.Where(c => c.Id == id).Select(c => c.Path).SingleOrDefaultAsync(cancellationToken);
            if (path is null)
            {
                return null;
            }
            var subtree = db.Categories.Where(c => c.Path.StartsWith(path)).Select(c => c.Id);
            products = products.Where(p => subtree.Contains(p.CategoryId));
        }

        var total = await products.CountAsync(cancellationToken);
        var items = await products
            .OrderByDescending(p => p.Sales).ThenBy(p => p.Id)
            .Skip(page.Skip).Take(page.PageSize)
            .Select(p => new { p.Id, p.Name, p.MinPrice, p.Images, p.Sales, p.Brand })
            .ToListAsync(cancellationToken);
        return new PagedResponse<ProductSummary>(
            items.ConvertAll(p => new ProductSummary(p.Id.ToString(), p.Name, p.MinPrice, p.Images.Count > 0 ? p.Images[0] : null, p.Sales, p.Brand)),
            total, page.Page, page.PageSize);
    }

    private static async Task<ProductDetail?> LoadProductAsync(CatalogDbContext db, Guid productId, CancellationToken cancellationToken)
    {
        var product = await db.Products.AsNoTracking().Include(p => p.Skus)
            .SingleOrDefaultAsync(p => p.Id == productId && !p.Deleted, cancellationToken);
        return product is null ? null : ToDetail(product);
    }

    internal static ProductDetail ToDetail(Product p) => new(
        p.Id.ToString(), p.Name, p.Description, p.CategoryId.ToString(), p.Brand, p.Images, p.ImageUrl, p.MinPrice,
        [.. p.ActiveSkus.OrderBy(s => s.Code, StringComparer.Ordinal).Select(s => new SkuDetail(s.Id.ToString(), s.Code, s.Attributes, s.Price, s.Stock))],
        p.Sales, p.UpdatedAt);

    private static CategoryNode[] BuildTree(List<Category> categories)
    {
        var byParent = categories.ToLookup(c => c.ParentId);
        CategoryNode[] ChildrenOf(Guid? parent) =>
            [.. byParent[parent].OrderBy(c => c.SortOrder).ThenBy(c => c.Name, StringComparer.Ordinal)
                .Select(c => new CategoryNode(c.Id.ToString(), c.Name, ChildrenOf(c.Id)))];
        return ChildrenOf(null);
    }
}
