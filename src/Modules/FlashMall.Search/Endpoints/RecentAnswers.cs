using FlashMall.Contracts.Ops;
using FlashMall.Kernel.Problems;
using FlashMall.Search.Domain;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Caching.Memory;

namespace FlashMall.Search.Endpoints;

/// <summary>
/// This node's recent shoppers' answers (searches and suggestions, up to
/// <see cref="Capacity"/> of them, each for <see cref="Lifetime"/>), remembered as they are
/// answered so that while the <c>search.cache_only</c> switch is on, search is served from here
/// without touching the engine: a hit carries <c>X-Served-From: cache</c>, a miss is 503
/// <c>degraded</c> with <c>Retry-After</c>.
/// </summary>
internal sealed class RecentAnswers(ISwitches switches) : IDisposable
{
    public const int Capacity = 1_000;
    public const string ServedFromHeader = "X-Served-From";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly MemoryCache _answers = new(new MemoryCacheOptions { SizeLimit = Capacity });

    public bool CacheOnly => switches.IsOn(SwitchNames.SearchCacheOnly);

    public void Remember(object key, object answer) =>
        _answers.Set(key, answer, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Lifetime });

    /// <summary>A remembered answer, marking the response as served from the cache.</summary>
    public bool TryServe<T>(object key, HttpContext http, out T answer)
        where T : class
    {
        if (_answers.TryGetValue(key, out var found) && found is T typed)
        {
            http.Response.Headers[ServedFromHeader] = "cache";
            answer = typed;
            return true;
        }
        answer = null!;
        return false;
    }

    public static ProblemHttpResult Miss(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "30";
        return Problems.Create(StatusCodes.Status503ServiceUnavailable, ProblemCodes.Degraded, "Degraded",
            "Search is answering only from its cache of recent answers for now, and this one is not in it; try again later.");
    }

    public void Dispose() => _answers.Dispose();
}

/// <summary>The key of a suggestion answer (distinct from any <see cref="SearchQuery"/>).</summary>
internal sealed record SuggestKey(string Text);
