namespace FlashMall.Contracts.Catalog;

/// <summary>The orders the catalog's own (database) search knows.</summary>
public enum CatalogSearchOrder
{
    /// <summary>Products whose name holds the words first, then best sellers.</summary>
    Relevance,
    PriceAscending,
    PriceDescending,
    Sales,
    Newest,
}

/// <summary>
/// A plain search of the catalog's products: every word in <see cref="Words"/> must occur in the
/// name, the brand or the description (case-insensitive for Latin letters); the category filter
/// takes its whole subtree; prices are the products' lowest SKU prices, in fen.
/// </summary>
public sealed record CatalogSearchRequest(
    IReadOnlyList<string> Words, Guid? CategoryId, string? Brand, long? PriceMin, long? PriceMax, CatalogSearchOrder Order, int Skip, int Take);

/// <summary>A page of matches (ties broken by id) and the number of all matches.</summary>
public sealed record CatalogSearchPage(IReadOnlyList<SearchableProduct> Items, int Total);

/// <summary>
/// The Catalog module searching its own tables: what search answers from while its engine is down
/// (a simpler ranking, and slower: a scan). Search never reads Catalog's tables itself.
/// </summary>
public interface ICatalogProductSearch
{
    Task<CatalogSearchPage> SearchAsync(CatalogSearchRequest request, CancellationToken cancellationToken = default);
}
