using System.Globalization;
using System.Text.Json.Serialization;
using FlashMall.Contracts.Catalog;
using FlashMall.Contracts.Search;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using FlashMall.Search.Domain;
using FlashMall.Search.Indexing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.Search.Endpoints;

internal sealed record SearchItem(string Id, string Name, long Price, string? ImageUrl, long Sales, string Brand);
internal sealed record AdminSearchItem(string Id, string Name, long Price, string? ImageUrl, long Sales, string Brand, int Stock, long? Margin, bool OnSale);
internal sealed record FacetValue(string Value, int Count);
internal sealed record SearchFacets(IReadOnlyList<FacetValue> Category, IReadOnlyList<FacetValue> Brand);
/// <summary>A page of results; <see cref="Degraded"/> (written only when true) says the database answered, the engine being down.</summary>
internal sealed record SearchPage<T>(IReadOnlyList<T> Items, int Total, int Page, int PageSize, SearchFacets Facets,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Degraded = false);
internal sealed record SuggestAnswer(IReadOnlyList<string> Suggestions,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Degraded = false);
internal sealed record RebuildAnswer(int Documents, long ElapsedMs);

/// <summary>
/// Shoppers' search (<c>/api/search</c>, <c>/api/search/suggest</c>), merchandisers' internal
/// search (<c>/api/admin/search</c>) and the operators' rebuild. Every input is validated first;
/// the text is analysed, never parsed as query syntax, so no input makes the engine throw.
/// </summary>
internal static class SearchEndpoints
{
    public const int MaxQueryLength = 200;
    public const int SuggestionCount = 10;
    public const string RebuildRunning = "search_rebuild_running";
    public const string Unavailable = "search_unavailable";
    /// <summary>How long the database search may take while the engine is down.</summary>
    public static readonly TimeSpan DatabaseTimeout = TimeSpan.FromSeconds(3);
    /// <summary>As the catalog's: ¥100,000,000.00.</summary>
    private const long MaxPrice = 10_000_000_000;

    private static readonly Dictionary<string, SearchSort> PublicSorts = new(StringComparer.Ordinal)
    {
        ["relevance"] = SearchSort.Relevance,
        ["price_asc"] = SearchSort.PriceAscending,
        ["price_desc"] = SearchSort.PriceDescending,
        ["sales"] = SearchSort.Sales,
        ["newest"] = SearchSort.Newest,
    };

    private static readonly Dictionary<string, SearchSort> AdminSorts = new(PublicSorts, StringComparer.Ordinal) { ["stock"] = SearchSort.Stock };

    public static void MapSearchEndpoints(this IEndpointRouteBuilder routes)
    {
        var search = routes.MapGroup("/api/search").WithTags("Search").NonCore().AddEndpointFilter(AnswerUnavailable);
        search.MapGet("", Search);
        search.MapGet("/suggest", Suggest);

        var admin = routes.MapGroup("/api/admin/search").WithTags("Search admin").NonCore().AddEndpointFilter(AnswerUnavailable);
        admin.MapGet("", AdminSearch).RequireAuthorization(Policies.Merchandiser);
        admin.MapPost("/rebuild", Rebuild).RequireAuthorization(Policies.Operator);
    }

    /// <summary>An engine that does not answer (where no database fallback applies) is a 503 with a code and <c>Retry-After</c>, never a 500: the rest of the shop keeps working.</summary>
    private static async ValueTask<object?> AnswerUnavailable(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (SearchUnavailableException)
        {
            context.HttpContext.Response.Headers.RetryAfter = "5";
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, Unavailable, "Search unavailable",
                "The search engine does not answer; try again shortly.");
        }
    }

    private static async Task<Results<Ok<SearchPage<SearchItem>>, ProblemHttpResult>> Search(
        string? q, string? categoryId, string? brand, string? priceMin, string? priceMax, string? sort, PageRequest page,
        ISearchIndex index, RecentAnswers recent, HttpContext http, CancellationToken cancellationToken)
    {
        var (query, problem) = Validate(q, categoryId, brand, priceMin, priceMax, sort, page, PublicSorts);
        if (query is null)
        {
            return problem!;
        }
        if (recent.CacheOnly)
        {
            return recent.TryServe<SearchPage<SearchItem>>(query, http, out var cached) ? Archived(http, query, sort, cached) : RecentAnswers.Miss(http);
        }
        SearchResult result;
        try
        {
            result = await index.SearchAsync(query, cancellationToken);
        }
        catch (SearchUnavailableException)
        {
            var fallback = await FromDatabaseAsync(query, page, http, cancellationToken);
            return fallback.Result is Ok<SearchPage<SearchItem>> { Value: { } degraded } ? Archived(http, query, sort, degraded) : fallback;
        }
        var answer = ToPage(result, page, h => new SearchItem(h.Id.ToString(), h.Name, h.Price, h.ImageUrl, h.Sales, h.Brand));
        recent.Remember(query, answer);
        return Archived(http, query, sort, answer);
    }

    /// <summary>Hands the answered query to the business archive, when it runs (a non-blocking queue; a full one drops it), and answers.</summary>
    private static Ok<SearchPage<SearchItem>> Archived(HttpContext http, SearchQuery query, string? sort, SearchPage<SearchItem> answer)
    {
        http.RequestServices.GetService<ISearchQueryLog>()?.Record(new SearchQueryRecord(
            query.Text, query.CategoryId, query.Brand, sort ?? "relevance", answer.Page, answer.Total, answer.Degraded,
            Guid.TryParse(http.User.UserIdValue(), out var user) ? user : null));
        return TypedResults.Ok(answer);
    }

    /// <summary>
    /// The engine is down: the catalog searches its own tables (every word in the name, brand or
    /// description; names first, then sales), bounded by <see cref="DatabaseTimeout"/>. Same shape,
    /// plus <c>"degraded": true</c> and <c>X-Served-From: database</c>; facets counted by the database
    /// (leaf category and brand, as the engines count them); never remembered.
    /// A database that does not answer in time is the 503 <c>search_unavailable</c>.
    /// </summary>
    private static async Task<Results<Ok<SearchPage<SearchItem>>, ProblemHttpResult>> FromDatabaseAsync(
        SearchQuery query, PageRequest page, HttpContext http, CancellationToken cancellationToken)
    {
        var catalog = http.RequestServices.GetRequiredService<ICatalogProductSearch>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DatabaseTimeout);
        CatalogSearchPage found;
        try
        {
            found = await catalog.SearchAsync(new CatalogSearchRequest(
                query.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries), query.CategoryId, query.Brand, query.PriceMin, query.PriceMax,
                query.Sort switch
                {
                    SearchSort.PriceAscending => CatalogSearchOrder.PriceAscending,
                    SearchSort.PriceDescending => CatalogSearchOrder.PriceDescending,
                    SearchSort.Sales => CatalogSearchOrder.Sales,
                    SearchSort.Newest => CatalogSearchOrder.Newest,
                    _ => CatalogSearchOrder.Relevance,
                },
                query.Skip, query.Take), timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            http.Response.Headers.RetryAfter = "5";
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, Unavailable, "Search unavailable",
                "The search engine does not answer and the database search took too long; try again shortly.");
        }
        http.Response.Headers[RecentAnswers.ServedFromHeader] = "database";
        return TypedResults.Ok(new SearchPage<SearchItem>(
            [.. found.Items.Select(p => new SearchItem(p.Id.ToString(), p.Name, p.Price, p.ImageUrl, p.Sales, p.Brand))],
            found.Total, page.Page, page.PageSize,
            new SearchFacets([.. found.Categories.Select(c => new FacetValue(c.Value, c.Count))], [.. found.Brands.Select(b => new FacetValue(b.Value, b.Count))]),
            Degraded: true));
    }

    /// <summary>
    /// The same index, with what merchandisers build promotion pages from. <c>margin</c> is read
    /// from the catalog for the page's products (<see cref="ICatalogSearchSource.MarginsAsync"/>:
    /// price minus cost of the cheapest SKU, fen), null when no cost is recorded; not sortable.
    /// </summary>
    private static async Task<Results<Ok<SearchPage<AdminSearchItem>>, ProblemHttpResult>> AdminSearch(
        string? q, string? categoryId, string? brand, string? priceMin, string? priceMax, string? sort, PageRequest page,
        ISearchIndex index, ICatalogSearchSource catalog, CancellationToken cancellationToken)
    {
        var (query, problem) = Validate(q, categoryId, brand, priceMin, priceMax, sort, page, AdminSorts);
        if (query is null)
        {
            return problem!;
        }
        var result = await index.SearchAsync(query, cancellationToken);
        var margins = await catalog.MarginsAsync([.. result.Items.Select(h => h.Id)], cancellationToken);
        return TypedResults.Ok(ToPage(result, page,
            h => new AdminSearchItem(h.Id.ToString(), h.Name, h.Price, h.ImageUrl, h.Sales, h.Brand, h.Stock,
                margins.TryGetValue(h.Id, out var margin) ? margin : null, h.OnSale)));
    }

    private static async Task<Results<Ok<SuggestAnswer>, ProblemHttpResult>> Suggest(
        string? q, ISearchIndex index, RecentAnswers recent, HttpContext http, CancellationToken cancellationToken)
    {
        var validation = new Validator().OptionalText(q, "q", MaxQueryLength);
        if (!validation.IsValid)
        {
            return validation.ToProblem();
        }
        if (string.IsNullOrWhiteSpace(q))
        {
            return TypedResults.Ok(new SuggestAnswer([]));
        }
        var key = new SuggestKey(q);
        if (recent.CacheOnly)
        {
            return recent.TryServe<SuggestAnswer>(key, http, out var cached) ? TypedResults.Ok(cached) : RecentAnswers.Miss(http);
        }
        IReadOnlyList<string> suggestions;
        try
        {
            suggestions = await index.SuggestAsync(q, SuggestionCount, cancellationToken);
        }
        catch (SearchUnavailableException)
        {
            // Suggestions are a nicety: while the engine is down there are none, flagged.
            http.Response.Headers[RecentAnswers.ServedFromHeader] = "none";
            return TypedResults.Ok(new SuggestAnswer([], Degraded: true));
        }
        var answer = new SuggestAnswer(suggestions);
        recent.Remember(key, answer);
        return TypedResults.Ok(answer);
    }

    private static async Task<Results<Ok<RebuildAnswer>, ProblemHttpResult>> Rebuild(ISearchIndex index, CatalogReader catalog, CancellationToken cancellationToken)
    {
        var report = await index.RebuildAsync(catalog, cancellationToken);
        return report is null
            ? Problems.Conflict(RebuildRunning, "A rebuild of the search index is already running; the index keeps answering meanwhile.")
            : TypedResults.Ok(new RebuildAnswer(report.Documents, (long)report.Elapsed.TotalMilliseconds));
    }

    private static (SearchQuery? Query, ProblemHttpResult? Problem) Validate(
        string? q, string? categoryId, string? brand, string? priceMin, string? priceMax, string? sort, PageRequest page,
        Dictionary<string, SearchSort> sorts)
    {
        var validation = new Validator()
            .OptionalText(q, "q", MaxQueryLength)
            .OptionalText(brand, "brand", 64);
        Guid? category = null;
        if (!string.IsNullOrEmpty(categoryId))
        {
            validation.Require(Guid.TryParse(categoryId, out var parsed), "categoryId", "Not a category id.");
            category = parsed;
        }
        var min = Price(priceMin, "priceMin", validation);
        var max = Price(priceMax, "priceMax", validation);
        validation.Require(min is null || max is null || min <= max, "priceMax", "At least priceMin.");
        var order = SearchSort.Relevance;
        if (!string.IsNullOrEmpty(sort) && !sorts.TryGetValue(sort, out order))
        {
            validation.Add("sort", $"One of {string.Join(", ", sorts.Keys)}.");
        }
        if (!validation.IsValid)
        {
            return (null, validation.ToProblem());
        }
        return (new SearchQuery(q?.Trim() ?? "", category, string.IsNullOrWhiteSpace(brand) ? null : brand.Trim(), min, max, order, page.Skip, page.PageSize), null);
    }

    private static long? Price(string? raw, string field, Validator validation)
    {
        if (string.IsNullOrEmpty(raw))
        {
            return null;
        }
        if (long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= MaxPrice)
        {
            return value;
        }
        validation.Add(field, $"A whole number of fen from 0 to {MaxPrice}.");
        return null;
    }

    private static SearchPage<T> ToPage<T>(SearchResult result, PageRequest page, Func<SearchHit, T> item) => new(
        [.. result.Items.Select(item)], result.Total, page.Page, page.PageSize,
        new SearchFacets(
            [.. result.Categories.Select(c => new FacetValue(c.Value, c.Count))],
            [.. result.Brands.Select(b => new FacetValue(b.Value, b.Count))]));
}
