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

/// <summary>How many of all matches (not only the page's) have one value of a facet.</summary>
public sealed record CatalogFacetCount(string Value, int Count);

/// <summary>
/// A page of matches (ties broken by id), the number of all matches, and facets over all
/// matches: leaf category ids (<c>Guid.ToString()</c>) and brands, most frequent first, ties by
/// value (ordinal), at most <see cref="ICatalogProductSearch.MaxFacetValues"/> each.
/// </summary>
public sealed record CatalogSearchPage(IReadOnlyList<SearchableProduct> Items, int Total, IReadOnlyList<CatalogFacetCount> Categories, IReadOnlyList<CatalogFacetCount> Brands);

/// <summary>
/// The Catalog module searching its own tables: what search answers from while its engine is down
/// (a simpler ranking, and slower: a scan). Search never reads Catalog's tables itself.
/// </summary>
public interface ICatalogProductSearch
{
    /// <summary>The most values each facet lists (the search engines list as many).</summary>
    public const int MaxFacetValues = 50;

    Task<CatalogSearchPage> SearchAsync(CatalogSearchRequest request, CancellationToken cancellationToken = default);
}
