using FlashMall.Contracts.Catalog;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Messaging;
using FlashMall.Search.Domain;
using FlashMall.Search.Lucene;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlashMall.Search.Indexing;

/// <summary>
/// A product changed (fields, SKUs, stock, sales): it is read from the catalog as it is now and
/// written to the index, or removed when the catalog no longer has it. Reading the current state
/// makes late, repeated or reordered events harmless.
/// </summary>
internal sealed class IndexOnProductChanged(ICatalogSearchSource catalog, ISearchIndex index) : IIntegrationEventConsumer<ProductChanged>
{
    public const string Consumer = "search.index-on-product-changed";

    public async Task ConsumeAsync(ProductChanged changed, CancellationToken cancellationToken)
    {
        var products = await catalog.FindAsync([changed.ProductId], cancellationToken);
        if (products.Count == 0)
        {
            await index.DeleteAsync([changed.ProductId], cancellationToken);
        }
        else
        {
            await index.UpsertAsync(products, cancellationToken);
        }
    }
}

/// <summary>A deleted product leaves the index.</summary>
internal sealed class RemoveOnProductDeleted(ISearchIndex index) : IIntegrationEventConsumer<ProductDeleted>
{
    public const string Consumer = "search.remove-on-product-deleted";

    public Task ConsumeAsync(ProductDeleted deleted, CancellationToken cancellationToken) => index.DeleteAsync([deleted.ProductId], cancellationToken);
}

/// <summary>Reads the catalog for a rebuild, each call in a scope of its own (a short-lived context per batch).</summary>
internal sealed class CatalogReader(IServiceScopeFactory scopes) : ICatalogReader
{
    public async Task<IReadOnlyList<SearchableProduct>> ReadPageAsync(Guid? afterId, int limit, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ICatalogSearchSource>().ReadPageAsync(afterId, limit, cancellationToken);
    }

    public async Task<IReadOnlyList<SearchableProduct>> FindAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ICatalogSearchSource>().FindAsync(productIds, cancellationToken);
    }
}

/// <summary>
/// At start-up, an empty index is built from the catalog (a new node, a wiped data folder); a
/// non-empty one is kept, and the catalog events still in the outbox bring it up to date.
/// </summary>
internal sealed partial class BuildEmptyIndexAtStartup(
    ISearchIndex index, CatalogReader catalog, IConfiguration configuration, ILogger<BuildEmptyIndexAtStartup> logger) : IStartupTask
{
    /// <summary>After the demo catalog is seeded.</summary>
    public int Order => StartupTaskOrder.DemoCatalog + 50;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (index is LuceneSearchIndex && !NodeRoles.RunsBackgroundWork(configuration))
        {
            // A core/noncore node consumes no events: its own embedded index would never change.
            LogStaleEmbeddedIndex(logger, configuration["role"]);
        }
        try
        {
            if (await index.CountAsync(cancellationToken) > 0)
            {
                return;
            }
            var report = await index.RebuildAsync(catalog, cancellationToken);
            if (report is not null)
            {
                LogBuilt(logger, report.Documents, (long)report.Elapsed.TotalMilliseconds);
            }
        }
        catch (SearchUnavailableException ex)
        {
            // Search is not core: the node starts and sells; an operator rebuilds once the engine is back.
            LogEngineDown(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The search engine did not answer at start-up: the index was not checked; POST /api/admin/search/rebuild once it is back")]
    private static partial void LogEngineDown(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This {Role} node runs no event consumers, so its embedded Lucene index never hears of catalog changes after start-up; serve search from Search:Engine=Sphinx (shared by every node) or from an all/worker node")]
    private static partial void LogStaleEmbeddedIndex(ILogger logger, string? role);

    [LoggerMessage(Level = LogLevel.Information, Message = "Built the empty search index from the catalog: {Documents} products in {ElapsedMs} ms")]
    private static partial void LogBuilt(ILogger logger, int documents, long elapsedMs);
}
