using FlashMall.Contracts.Catalog;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using FlashMall.Search.Domain;
using FlashMall.Search.Endpoints;
using FlashMall.Search.Indexing;
using FlashMall.Search.Lucene;
using FlashMall.Search.Persistence;
using FlashMall.Search.Sphinx;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlashMall.Search;

/// <summary>
/// Search: the product index behind shoppers' search, suggestions and merchandisers' internal
/// search, kept fresh by the catalog's product events (through the outbox) and rebuilt on demand.
/// The index is a port (<see cref="ISearchIndex"/>): Lucene.NET on local disk (embedded default) or
/// a Sphinx server over SphinxQL (<c>Search:Engine=Sphinx</c>).
/// </summary>
public static class SearchModule
{
    public static IHostApplicationBuilder AddSearch(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddModuleDbContext<SearchDbContext, SearchSqliteDbContext, SearchPostgresDbContext>(SearchDbContext.Schema);
        services.AddOptions<SearchOptions>().BindConfiguration(SearchOptions.SectionName)
            .PostConfigure(o => o.ConnectionString ??= builder.Configuration.GetConnectionString("Search")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SearchOptions>, SearchOptionsValidator>();

        if (string.Equals(builder.Configuration[$"{SearchOptions.SectionName}:Engine"], SearchOptions.SphinxEngine, StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton<SphinxSearchIndex>();
            services.AddSingleton<ISearchIndex>(sp => new TracedSearchIndex(sp.GetRequiredService<SphinxSearchIndex>(), "sphinx",
                SphinxNode(sp.GetRequiredService<IOptions<SearchOptions>>().Value.ConnectionString)));
        }
        else
        {
            services.AddSingleton<LuceneSearchIndex>();
            services.AddSingleton<ISearchIndex>(sp => new TracedSearchIndex(sp.GetRequiredService<LuceneSearchIndex>(), "lucene", Environment.MachineName));
        }
        services.AddSingleton<CatalogReader>();
        services.AddSingleton<RecentAnswers>();
        services.AddIntegrationEventConsumer<SearchDbContext, ProductChanged, IndexOnProductChanged>(IndexOnProductChanged.Consumer);
        services.AddIntegrationEventConsumer<SearchDbContext, ProductDeleted, RemoveOnProductDeleted>(RemoveOnProductDeleted.Consumer);
        services.AddStartupTask<BuildEmptyIndexAtStartup>();
        return builder;
    }

    /// <summary>The Sphinx node a connection string names (host:port), for spans; never its password.</summary>
    private static string SphinxNode(string? connectionString)
    {
        var parsed = new MySqlConnector.MySqlConnectionStringBuilder(connectionString ?? "");
        return $"{parsed.Server}:{parsed.Port}";
    }

    public static IEndpointRouteBuilder MapSearch(this IEndpointRouteBuilder routes)
    {
        routes.MapSearchEndpoints();
        return routes;
    }
}
