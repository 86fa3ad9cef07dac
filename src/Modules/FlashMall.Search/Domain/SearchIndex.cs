using FlashMall.Contracts.Catalog;

namespace FlashMall.Search.Domain;

internal enum SearchSort
{
    Relevance,
    PriceAscending,
    PriceDescending,
    Sales,
    Newest,
    Stock,
}

/// <summary>A validated search: text (may be empty: browse), filters, order and the page's window.</summary>
internal sealed record SearchQuery(
    string Text, Guid? CategoryId, string? Brand, long? PriceMin, long? PriceMax, SearchSort Sort, int Skip, int Take);

/// <summary>One product as the index returns it: what both the shoppers' and the merchandisers' views show.</summary>
internal sealed record SearchHit(Guid Id, string Name, long Price, string? ImageUrl, long Sales, string Brand, int Stock, bool OnSale);

internal sealed record FacetCount(string Value, int Count);

/// <summary>A page of hits, the number of all matches, and the matches counted by leaf category and by brand.</summary>
internal sealed record SearchResult(IReadOnlyList<SearchHit> Items, int Total, IReadOnlyList<FacetCount> Categories, IReadOnlyList<FacetCount> Brands);

/// <summary>The catalog as a rebuild reads it.</summary>
internal interface ICatalogReader
{
    /// <summary>Products in id order, a batch at a time (null <c>afterId</c>: from the first).</summary>
    Task<IReadOnlyList<SearchableProduct>> ReadPageAsync(Guid? afterId, int limit, CancellationToken cancellationToken);

    /// <summary>Those of <paramref name="productIds"/> the catalog has now.</summary>
    Task<IReadOnlyList<SearchableProduct>> FindAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken);
}

/// <summary>The search engine cannot be reached (a server down, a network fault): shoppers' search answers from the database, flagged; the other search endpoints answer 503, never 500.</summary>
internal sealed class SearchUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>What a rebuild did.</summary>
internal sealed record RebuildReport(int Documents, TimeSpan Elapsed);

/// <summary>
/// The search port: one index of products, kept fresh by catalog events, queried by shoppers and
/// merchandisers. Adapters: Lucene.NET on local disk (embedded default).
/// </summary>
internal interface ISearchIndex
{
    /// <summary>Adds or replaces these products; searchable when the call returns.</summary>
    Task UpsertAsync(IReadOnlyList<SearchableProduct> products, CancellationToken cancellationToken);

    /// <summary>Removes these products (absent ones are ignored); gone from results when the call returns.</summary>
    Task DeleteAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken);

    Task<SearchResult> SearchAsync(SearchQuery query, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> product names starting with, or with a word starting with, <paramref name="prefix"/>, best sellers first.</summary>
    Task<IReadOnlyList<string>> SuggestAsync(string prefix, int limit, CancellationToken cancellationToken);

    Task<int> CountAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Builds a new index from the whole catalog while the current one keeps answering, applies
    /// the changes that arrived meanwhile, and swaps it in. Null when a rebuild is already running.
    /// </summary>
    Task<RebuildReport?> RebuildAsync(ICatalogReader catalog, CancellationToken cancellationToken);
}
