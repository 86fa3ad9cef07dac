using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Kernel.Http;

/// <summary>A request-rate rule: at most <see cref="Limit"/> requests in a fixed <see cref="Window"/> starting at the first; <c>Limit = 0</c> turns it off.</summary>
public sealed class RequestRateRule
{
    /// <summary>Requests allowed per window; 0 turns the rule off.</summary>
    [Range(0, 100_000_000)]
    public int Limit { get; set; }

    /// <summary>The window's length.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// <c>RateLimiting:*</c> request-rate limits over every API endpoint, per signed-in user, per
/// <c>X-Device-Id</c> and per client IP; shared by every node through Redis when
/// <c>ConnectionStrings:Redis</c> is set. <c>RateLimiting:Enabled=false</c> lifts them all.
/// </summary>
public sealed class RequestRateLimitOptions
{
    /// <summary>Requests per account: a person on a phone, generously.</summary>
    [Required]
    public RequestRateRule PerUser { get; set; } = new() { Limit = 600 };

    /// <summary>Requests per device id, whatever account.</summary>
    [Required]
    public RequestRateRule PerDevice { get; set; } = new() { Limit = 600 };

    /// <summary>
    /// Requests per client address. Loose: behind a carrier's NAT thousands of phones share one
    /// address during a sale; this only stops one host flooding.
    /// </summary>
    [Required]
    public RequestRateRule PerIp { get; set; } = new() { Limit = 60_000 };
}

/// <summary>One request's place in a rule's window: the rule's key (rule and caller) and the window's length.</summary>
/// <param name="Key">e.g. <c>user:{id}</c>, <c>device:{id}</c>, <c>ip:{address}</c>.</param>
/// <param name="Window">The window's length (it starts at the first request).</param>
public readonly record struct RateWindow(string Key, TimeSpan Window);

/// <summary>A window's count including this request, and when the window ends.</summary>
/// <param name="Count">Requests counted in the window so far, this one included.</param>
/// <param name="ResetsIn">Time until the window ends.</param>
public readonly record struct RateCount(long Count, TimeSpan ResetsIn);

/// <summary>Fixed-window request counters: in one node's memory, or shared by every node (Redis).</summary>
public interface IRequestRateCounters
{
    /// <summary>Counts this request in each window and answers each count including it.</summary>
    /// <param name="windows">The windows the request belongs to.</param>
    /// <param name="cancellationToken">The request's cancellation.</param>
    ValueTask<RateCount[]> CountAsync(IReadOnlyList<RateWindow> windows, CancellationToken cancellationToken);
}

/// <summary>
/// The embedded counters (a single node). At most <see cref="MaxWindows"/> live windows, ended
/// ones swept every 30 s; when full, a new caller is counted as its window's first (fails open)
/// rather than growing without bound while a client invents device ids.
/// </summary>
internal sealed class InProcessRequestRateCounters(TimeProvider clock) : IRequestRateCounters
{
    public const int MaxWindows = 200_000;

    private readonly ConcurrentDictionary<string, Counter> _windows = new(StringComparer.Ordinal);
    private long _nextSweep;

    public ValueTask<RateCount[]> CountAsync(IReadOnlyList<RateWindow> windows, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcTicks;
        Sweep(now);
        var counts = new RateCount[windows.Count];
        for (var i = 0; i < windows.Count; i++)
        {
            var window = windows[i];
            if (!_windows.TryGetValue(window.Key, out var counter))
            {
                if (_windows.Count >= MaxWindows)
                {
                    counts[i] = new RateCount(1, window.Window);
                    continue;
                }
                counter = _windows.GetOrAdd(window.Key, static _ => new Counter());
            }
            lock (counter)
            {
                if (counter.EndsAt <= now)
                {
                    counter.EndsAt = now + window.Window.Ticks;
                    counter.Count = 0;
                }
                counts[i] = new RateCount(++counter.Count, TimeSpan.FromTicks(counter.EndsAt - now));
            }
        }
        return ValueTask.FromResult(counts);
    }

    private void Sweep(long now)
    {
        var due = Interlocked.Read(ref _nextSweep);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + TimeSpan.TicksPerSecond * 30, due) != due)
        {
            return;
        }
        foreach (var (key, counter) in _windows)
        {
            lock (counter)
            {
                if (counter.EndsAt > now)
                {
                    continue;
                }
            }
            // A request between the check and the removal restarts in a fresh window: harmless.
            _windows.TryRemove(new KeyValuePair<string, Counter>(key, counter));
        }
    }

    private sealed class Counter
    {
        public long EndsAt;
        public long Count;
    }
}

/// <summary>
/// The request-rate gate: after authentication (the user is known), each API request counts once
/// per user, per device and per IP window; over a limit it is refused <c>429 rate_limited</c> with
/// <c>Retry-After</c> (the window's remainder) and the first refusal of each window is logged.
/// Health and metrics are not counted. Absent when <c>RateLimiting:Enabled=false</c>.
/// </summary>
internal sealed partial class RequestRateGate(
    RequestDelegate next, IRequestRateCounters counters, IOptions<RequestRateLimitOptions> options, ILogger<RequestRateGate> logger)
{
    private readonly RequestRateLimitOptions _options = options.Value;

    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.Metadata.GetMetadata<ServedOnEveryRole>() is not null)
        {
            await next(context);
            return;
        }
        var windows = new List<RateWindow>(3);
        var limits = new List<(string Rule, int Limit)>(3);
        if (_options.PerUser.Limit > 0 && context.User.UserIdValue() is { } userId)
        {
            windows.Add(new RateWindow($"user:{userId}", _options.PerUser.Window));
            limits.Add(("user", _options.PerUser.Limit));
        }
        if (_options.PerDevice.Limit > 0 && context.Request.Headers["X-Device-Id"].ToString() is { Length: > 0 and <= 64 } device)
        {
            windows.Add(new RateWindow($"device:{device}", _options.PerDevice.Window));
            limits.Add(("device", _options.PerDevice.Limit));
        }
        if (_options.PerIp.Limit > 0 && ClientAddress.Of(context) is { } ip)
        {
            windows.Add(new RateWindow($"ip:{ip}", _options.PerIp.Window));
            limits.Add(("ip", _options.PerIp.Limit));
        }
        if (windows.Count > 0)
        {
            var counts = await counters.CountAsync(windows, context.RequestAborted);
            for (var i = 0; i < counts.Length; i++)
            {
                if (counts[i].Count <= limits[i].Limit)
                {
                    continue;
                }
                if (counts[i].Count == limits[i].Limit + 1)
                {
                    LogLimited(logger, limits[i].Rule, windows[i].Key, limits[i].Limit, windows[i].Window);
                }
                context.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(counts[i].ResetsIn.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await Problems.Problems.TooManyRequests(ProblemCodes.RateLimited,
                    $"Too many requests from this {limits[i].Rule}; retry after the given delay.").ExecuteAsync(context);
                return;
            }
        }
        await next(context);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request rate limit per {Rule} reached for {Key}: over {Limit} in {Window}; refusing until the window ends")]
    private static partial void LogLimited(ILogger logger, string rule, string key, int limit, TimeSpan window);
}

/// <summary>Registering and placing the request-rate gate.</summary>
public static class RequestRateLimitRegistration
{
    /// <summary>Binds <c>RateLimiting:PerUser|PerDevice|PerIp</c>; the in-process counters unless an adapter (Redis) registers shared ones.</summary>
    /// <param name="services">The node's services.</param>
    public static IServiceCollection AddRequestRateLimits(this IServiceCollection services)
    {
        services.AddOptions<RequestRateLimitOptions>().BindConfiguration(RateLimitingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<InProcessRequestRateCounters>();
        services.AddSingleton<IRequestRateCounters>(sp => sp.GetRequiredService<InProcessRequestRateCounters>());
        return services;
    }

    /// <summary>After authentication; nothing at all when <c>RateLimiting:Enabled=false</c>.</summary>
    /// <param name="app">The pipeline.</param>
    public static IApplicationBuilder UseRequestRateLimits(this IApplicationBuilder app)
    {
        var enabled = app.ApplicationServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value.Enabled;
        return enabled ? app.UseMiddleware<RequestRateGate>() : app;
    }
}
