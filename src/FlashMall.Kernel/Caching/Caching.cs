using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlashMall.Kernel.Caching;

/// <summary>
/// Removes cached entries after a change, on this node and (with a shared L2) on every node,
/// so the next read anywhere sees the change.
/// </summary>
public interface ICacheInvalidator
{
    ValueTask InvalidateAsync(IReadOnlyList<string> keys, IReadOnlyList<string> tags, CancellationToken cancellationToken = default);
}

/// <summary>The embedded default: one process, so removing from this process's cache is enough.</summary>
internal sealed class LocalCacheInvalidator(HybridCache cache) : ICacheInvalidator
{
    public async ValueTask InvalidateAsync(IReadOnlyList<string> keys, IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        await cache.RemoveAsync(keys, cancellationToken);
        await cache.RemoveByTagAsync(tags, cancellationToken);
    }
}

public static class CachingRegistration
{
    /// <summary>Entries live this long in a node's memory; cross-node invalidation normally ends them sooner.</summary>
    public static readonly TimeSpan LocalExpiration = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan DistributedExpiration = TimeSpan.FromMinutes(10);

    /// <summary>HybridCache with an in-process L1; an adapter may add an L2 (<c>IDistributedCache</c>) and replace the invalidator.</summary>
    public static IHostApplicationBuilder AddTwoTierCache(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHybridCache(options =>
        {
            options.DefaultEntryOptions = new HybridCacheEntryOptions
            {
                LocalCacheExpiration = LocalExpiration,
                Expiration = DistributedExpiration,
            };
        });
        builder.Services.AddSingleton<ICacheInvalidator, LocalCacheInvalidator>();
        return builder;
    }
}
