using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using FlashMall.Kernel.Caching;
using FlashMall.Kernel.Persistence;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Catalog.Persistence;

/// <summary>
/// A response body serialised once, with its strong ETag (a hash of exactly these bytes).
/// Immutable, so HybridCache hands out the cached instance instead of a fresh copy per hit.
/// </summary>
[ImmutableObject(true)]
internal sealed record CachedJson(byte[] Body, string ETag)
{
    public static CachedJson From<T>(T value, JsonSerializerOptions options)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(value, options);
        return new CachedJson(body, $"\"{Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 16))}\"");
    }
}

/// <summary>
/// Public catalog reads go through the two-tier cache as ready-to-send bytes; every write
/// invalidates what it changed, on every node (see <see cref="ICacheInvalidator"/>). The store
/// is only touched (and its context only created) on a miss.
/// </summary>
internal sealed partial class CatalogCache(
    HybridCache cache, ICacheInvalidator invalidator, IServiceProvider services, IOptions<JsonOptions> json, TimeProvider clock, ILogger<CatalogCache> logger)
{
    /// <summary>
    /// A read that loaded the old row just before the commit can store it just after the
    /// invalidation; a second invalidation this much later ends such a copy.
    /// </summary>
    public static readonly TimeSpan SecondInvalidationDelay = TimeSpan.FromSeconds(1);

    /// <summary>Every cached product list carries this tag, so one change drops them all.</summary>
    public const string ProductListsTag = "catalog:products";
    public const string CategoriesKey = "catalog:categories";

    private static readonly string[] ListTags = [ProductListsTag];

    public static string ProductKey(Guid id) => $"catalog:product:{id:N}";

    /// <summary>
    /// The cached answer for <paramref name="key"/>, loading it on a miss. A miss that finds
    /// nothing, or that <paramref name="keep"/> declines (an empty page past the end), is not
    /// kept: otherwise anyone could fill the cache with random ids and page numbers.
    /// </summary>
    public async ValueTask<CachedJson?> GetOrLoadAsync<T>(
        string key, Func<CatalogDbContext, CancellationToken, Task<T?>> load, bool isList, CancellationToken cancellationToken, Func<T, bool>? keep = null)
        where T : class
    {
        var worthKeeping = new StrongBox<bool>(true);
        var cached = await cache.GetOrCreateAsync(
            key,
            (load, services, json.Value.SerializerOptions, keep, worthKeeping, origin: QueryOrigin.Capture()),
            static async (state, ct) =>
            {
                // HybridCache runs this without the caller's execution context: slow-query
                // entries keep the caller's trace id and route.
                using var resumed = state.origin.Resume();
                // A miss loads from a replica when one is within Database:MaxReplicaLag; the
                // second invalidation (SecondInvalidationDelay, not shorter than that lag) drops
                // a copy loaded from a replica that had not replayed the change yet.
                var value = await state.load(state.services.GetRequiredService<ReadReplica<CatalogDbContext>>().Db, ct);
                state.worthKeeping.Value = value is not null && (state.keep?.Invoke(value) ?? true);
                return value is null ? null : CachedJson.From(value, state.SerializerOptions);
            },
            tags: isList ? ListTags : null,
            cancellationToken: cancellationToken);
        if (!worthKeeping.Value)
        {
            await cache.RemoveAsync(key, CancellationToken.None);
        }
        return cached;
    }

    /// <summary>
    /// Drops the product and every list once the change <paramref name="db"/> is making is
    /// committed, and once more a moment later (see <see cref="SecondInvalidationDelay"/>).
    /// </summary>
    public Task InvalidateProductAsync(CatalogDbContext db, Guid productId, CancellationToken cancellationToken) =>
        db.RunAfterCommitAsync(async ct =>
        {
            string[] keys = [ProductKey(productId)];
            await invalidator.InvalidateAsync(keys, ListTags, ct);
            _ = InvalidateAgainLaterAsync(keys);
        }, cancellationToken);

    /// <summary>
    /// For a change inside another module's transaction (whose commit this module does not see):
    /// the product's pages are dropped now and once more after <see cref="SecondInvalidationDelay"/>,
    /// which also drops a page a reader cached between now and the owner's commit.
    /// </summary>
    /// <param name="productId">The product whose cached pages go.</param>
    /// <param name="cancellationToken">Cancels the first invalidation.</param>
    public async Task InvalidateProductNowAndLaterAsync(Guid productId, CancellationToken cancellationToken)
    {
        string[] keys = [ProductKey(productId)];
        await invalidator.InvalidateAsync(keys, ListTags, cancellationToken);
        _ = InvalidateAgainLaterAsync(keys);
    }

    private async Task InvalidateAgainLaterAsync(string[] keys)
    {
        try
        {
            await Task.Delay(SecondInvalidationDelay, clock);
            await invalidator.InvalidateAsync(keys, ListTags);
        }
        catch (Exception ex)
        {
            LogSecondInvalidationFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The delayed second cache invalidation failed")]
    private static partial void LogSecondInvalidationFailed(ILogger logger, Exception exception);
}
