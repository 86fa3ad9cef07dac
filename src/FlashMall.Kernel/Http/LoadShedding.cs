using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using System.Globalization;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlashMall.Kernel.Http;

/// <summary>
/// <c>LoadShedding:*</c>: concurrency limits per traffic class, so a flood of browsing cannot take
/// the CPU and connections buying needs. Non-core is refused first: when its own limit is reached,
/// and also whenever core requests in flight reach <see cref="NonCoreShedWhenCoreInFlight"/>
/// (the node is busy with what matters).
/// </summary>
public sealed class LoadSheddingOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "LoadShedding";

    /// <summary><c>false</c> removes the gate (not even its counters remain).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Non-core requests one node runs at once; more are refused 503 <c>degraded</c>. Default: 64
    /// per CPU core — only a node that is truly saturated sheds, so ordinary parallel browsing
    /// never sees a refusal. A node that must keep core latency under a browsing flood sets it
    /// near one per core (docs/BENCHMARKS.md, "Load shedding": 4 per core let a search flood
    /// starve the core).
    /// </summary>
    [Range(1, 100_000)]
    public int NonCoreMaxConcurrent { get; set; } = 64 * Environment.ProcessorCount;

    /// <summary>Core requests in flight at which non-core ones are refused regardless of their own count. Default: 64 per CPU core (a flash-sale rush).</summary>
    [Range(1, 100_000)]
    public int NonCoreShedWhenCoreInFlight { get; set; } = 64 * Environment.ProcessorCount;

    /// <summary>
    /// Core requests one node runs at once; more are refused 503 <c>overloaded</c>. A last resort
    /// against running out of memory, set far above any stampede: a buyer at a sale's opening gets
    /// an answer from the ledger (202 or 409), not a 503.
    /// </summary>
    [Range(1, 1_000_000)]
    public int CoreMaxConcurrent { get; set; } = 100_000;

    /// <summary>The <c>Retry-After</c> (seconds) on a shed request.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>
    /// How long a shed non-core request is held (no thread, a timer) before its 503 is written.
    /// An app or a script waits for the answer before it sends again, so a refusal answered at
    /// once invites the next request at once: a flood of instant refusals takes the cores the
    /// core needs. Holding it caps what each client can make the node refuse (256 clients held
    /// 500 ms: at most 512 refusals a second). 0 answers at once. Core refusals are never held.
    /// </summary>
    [Range(0, 10_000)]
    public int NonCoreRefusalDelayMilliseconds { get; set; }

    /// <summary>Shed requests held at once at most; past it they are answered at once (a bound on the connections held).</summary>
    [Range(0, 1_000_000)]
    public int MaxHeldRefusals { get; set; } = 10_000;

    /// <summary>
    /// Threads at the lowest CPU priority (Linux <c>nice 19</c>) that run the admitted non-core reads
    /// (GET, HEAD), so that a browsing flood gets only the CPU the core leaves over; 0 (default)
    /// runs them on the thread pool like the core. Reads only: a write holds locks a starved thread
    /// would keep from the core. A node that serves both classes under floods sets it to its core
    /// count, with the non-core cap and the refusal delay (docs/OPERATIONS.md, "Load shedding").
    /// </summary>
    [Range(0, 256)]
    public int NonCoreLowPriorityThreads { get; set; }
}

/// <summary>The node's <see cref="LowPriorityLane"/>, when <see cref="LoadSheddingOptions.NonCoreLowPriorityThreads"/> asks for one (stopped with the host).</summary>
internal sealed class NonCoreLane(IOptions<LoadSheddingOptions> options) : IDisposable
{
    public LowPriorityLane? Lane { get; } = options.Value.NonCoreLowPriorityThreads > 0 ? new LowPriorityLane(options.Value.NonCoreLowPriorityThreads) : null;

    public void Dispose() => Lane?.Dispose();
}

/// <summary>
/// The gate: two interlocked counters, no lock and no allocation per request (cheaper than a
/// <c>ConcurrencyLimiter</c> lease, and a refusal needs no queue). Health and metrics
/// (<see cref="ServedOnEveryRole"/>) always pass, so a load balancer never takes a busy node out.
/// </summary>
internal sealed class LoadSheddingGate
{
    private readonly RequestDelegate _next;
    private readonly LoadSheddingOptions _options;
    private readonly string _retryAfter;
    private readonly Counter<long> _shed;
    private readonly Counter<long> _laned;
    private int _core;
    private int _nonCore;
    private int _held;
    private readonly LowPriorityLane? _lane;

    public LoadSheddingGate(RequestDelegate next, IOptions<LoadSheddingOptions> options, NonCoreLane lane, IMeterFactory meters)
    {
        _next = next;
        _options = options.Value;
        _lane = lane.Lane;
        _retryAfter = _options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        var meter = meters.Create("FlashMall.Http");
        _shed = meter.CreateCounter<long>("flashmall.http.shed", description: "Requests refused by load shedding, by traffic class.");
        meter.CreateObservableGauge("flashmall.http.in_flight", () => new[]
        {
            new Measurement<int>(Volatile.Read(ref _core), new KeyValuePair<string, object?>("class", "core")),
            new Measurement<int>(Volatile.Read(ref _nonCore), new KeyValuePair<string, object?>("class", "noncore")),
        }, description: "Requests in flight through the load-shedding gate, by traffic class.");
        _laned = meter.CreateCounter<long>("flashmall.http.noncore_lane.requests", description: "Non-core reads run on the low-priority lane.");
        if (_lane is { } queued)
        {
            meter.CreateObservableGauge("flashmall.http.noncore_lane.queued", () => queued.Queued,
                description: "Non-core reads and their continuations waiting for a thread of the low-priority lane.");
        }
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        var trafficClass = endpoint is null ? null : TrafficClass.Of(endpoint);
        if (trafficClass is null || endpoint!.Metadata.GetMetadata<ServedOnEveryRole>() is not null)
        {
            await _next(context);
            return;
        }
        if (trafficClass == TrafficClass.NonCore)
        {
            if (Volatile.Read(ref _core) >= _options.NonCoreShedWhenCoreInFlight)
            {
                await RefuseAsync(context, trafficClass, ProblemCodes.Degraded);
                return;
            }
            if (Interlocked.Increment(ref _nonCore) > _options.NonCoreMaxConcurrent)
            {
                Interlocked.Decrement(ref _nonCore);
                await RefuseAsync(context, trafficClass, ProblemCodes.Degraded);
                return;
            }
            try
            {
                if (_lane is not null && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)))
                {
                    _laned.Add(1);
                    await Task.Factory.StartNew(() => _next(context), CancellationToken.None, TaskCreationOptions.DenyChildAttach, _lane).Unwrap();
                }
                else
                {
                    await _next(context);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _nonCore);
            }
            return;
        }
        if (Interlocked.Increment(ref _core) > _options.CoreMaxConcurrent)
        {
            Interlocked.Decrement(ref _core);
            await RefuseAsync(context, trafficClass, ProblemCodes.Overloaded);
            return;
        }
        try
        {
            await _next(context);
        }
        finally
        {
            Interlocked.Decrement(ref _core);
        }
    }

    private async Task RefuseAsync(HttpContext context, TrafficClass trafficClass, string code)
    {
        _shed.Add(1, new KeyValuePair<string, object?>("class", trafficClass.Name));
        if (trafficClass == TrafficClass.NonCore && _options.NonCoreRefusalDelayMilliseconds > 0)
        {
            try
            {
                if (Interlocked.Increment(ref _held) <= _options.MaxHeldRefusals) // past the bound: answered at once
                {
                    await Task.Delay(_options.NonCoreRefusalDelayMilliseconds, context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                return; // the client left: nothing to answer
            }
            finally
            {
                Interlocked.Decrement(ref _held);
            }
        }
        context.Response.Headers.RetryAfter = _retryAfter;
        await Problems.Problems.Create(StatusCodes.Status503ServiceUnavailable, code,
            code == ProblemCodes.Degraded ? "Degraded" : "Overloaded",
            code == ProblemCodes.Degraded
                ? "The server is busy; this feature is paused so buying and paying keep their capacity. Try again later."
                : "The server is at capacity; try again after the given delay.").ExecuteAsync(context);
    }
}

/// <summary>Registering and placing the load-shedding gate.</summary>
public static class LoadSheddingRegistration
{
    /// <summary>Binds and validates <c>LoadShedding:*</c>.</summary>
    /// <param name="services">The node's services.</param>
    public static IServiceCollection AddLoadShedding(this IServiceCollection services)
    {
        services.AddOptions<LoadSheddingOptions>().BindConfiguration(LoadSheddingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<NonCoreLane>();
        return services;
    }

    /// <summary>After routing (the endpoint's class is known), before authentication spends CPU on a request that will be shed.</summary>
    /// <param name="app">The pipeline.</param>
    public static IApplicationBuilder UseLoadShedding(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<LoadSheddingOptions>>().Value;
        return options.Enabled ? app.UseMiddleware<LoadSheddingGate>() : app;
    }
}
