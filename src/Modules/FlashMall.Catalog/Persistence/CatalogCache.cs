using System.ComponentModel;
using System.Security.Cryptography;
using System.Text.Json;
using FlashMall.Kernel.Caching;
using FlashMall.Kernel.Persistence;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
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
internal sealed class CatalogCache(HybridCache cache, ICacheInvalidator invalidator, IServiceProvider services, IOptions<JsonOptions> json)
{
    /// <summary>Every cached product list carries this tag, so one change drops them all.</summary>
    public const string ProductListsTag = "catalog:products";
    public const string CategoriesKey = "catalog:categories";

    private static readonly string[] ListTags = [ProductListsTag];

    public static string ProductKey(Guid id) => $"catalog:product:{id:N}";

    public ValueTask<CachedJson?> GetOrLoadAsync<T>(string key, Func<CatalogDbContext, CancellationToken, Task<T?>> load, bool isList, CancellationToken cancellationToken)
        where T : class =>
        cache.GetOrCreateAsync(
            key,
            (load, services, json.Value.SerializerOptions),
            static async (state, ct) => await state.load(state.services.GetRequiredService<CatalogDbContext>(), ct) is { } value
                ? CachedJson.From(value, state.SerializerOptions)
                : null,
            tags: isList ? ListTags : null,
            cancellationToken: cancellationToken);

    /// <summary>Drops the product and every list, once the change <paramref name="db"/> is making is committed.</summary>
    public Task InvalidateProductAsync(CatalogDbContext db, Guid productId, CancellationToken cancellationToken) =>
        db.RunAfterCommitAsync(ct => invalidator.InvalidateAsync([ProductKey(productId)], ListTags, ct).AsTask(), cancellationToken);
}
