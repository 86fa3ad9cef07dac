using System.Diagnostics;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Observability;
using Npgsql;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FlashMall.Server.Hosting;

/// <summary>
/// <c>OpenTelemetry:*</c>: traces and metrics. <see cref="Enabled"/> false removes both (and
/// <c>/metrics</c>) — the overhead benchmark's baseline; logs and trace ids in problems stay.
/// </summary>
internal sealed class TelemetryOptions
{
    public const string SectionName = "OpenTelemetry";

    /// <summary>Traces and metrics on (default) or off.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>OTLP collector address (e.g. <c>http://otel-collector:4317</c>); traces and metrics are pushed there when set.</summary>
    public string? Endpoint { get; set; }

    /// <summary><c>grpc</c> (default) or <c>http/protobuf</c>.</summary>
    public string Protocol { get; set; } = "grpc";

    /// <summary>
    /// The share of new traces (requests, jobs) recorded, 0 to 1; a message's consumer follows its
    /// producer's decision. Unset: 1 when an <see cref="Endpoint"/> is set, 0 without one.
    /// </summary>
    public double? TraceSampleRatio { get; set; }

    /// <summary>
    /// The ratio in force. Without a collector no span is made (there is nowhere to send it): the
    /// tracer provider is not built, and a request keeps its trace id for logs and problems.
    /// </summary>
    public double EffectiveTraceSampleRatio => Math.Clamp(TraceSampleRatio ?? (Endpoint is { Length: > 0 } ? 1 : 0), 0, 1);

    /// <summary>The service name traces and metrics carry.</summary>
    public string ServiceName { get; set; } = "flashmall";
}

internal static class Observability
{
    /// <summary>Where Prometheus scrapes: the text exposition of every metric of the node.</summary>
    public const string MetricsPath = "/metrics";

    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (builder.Configuration["Sentry:Dsn"] is { Length: > 0 } dsn)
        {
            builder.WebHost.UseSentry(sentry =>
            {
                sentry.Dsn = dsn;
                sentry.SendDefaultPii = false; // no IPs, cookies, bodies or user names: the trace id finds the rest
                sentry.MaxRequestBodySize = Sentry.Extensibility.RequestSize.None;
                sentry.Environment = builder.Environment.EnvironmentName;
                // The W3C trace id the ProblemDetails and the log line carry, so one id finds all three
                // (the hook runs where the event is captured, inside the failing request).
                sentry.SetBeforeSend(sentryEvent =>
                {
                    if (Activity.Current is { } activity)
                    {
                        sentryEvent.SetTag("trace_id", activity.TraceId.ToHexString());
                    }
                    return sentryEvent;
                });
            });
        }
        if (!options.Enabled)
        {
            return builder;
        }

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName, serviceInstanceId: $"{Environment.MachineName}/{Environment.ProcessId}"));
        if (options.EffectiveTraceSampleRatio > 0)
        {
            otel.WithTracing(tracing => AddTracing(tracing, options));
        }
        otel.WithMetrics(metrics =>
        {
            metrics
                .AddMeter(Telemetry.Prefix + "*")
                .AddAspNetCoreInstrumentation()
                // Kestrel's memory pool counts every buffer rented and returned (several per request):
                // not read on our dashboards, and about 1 µs of each purchase. Allocated and evicted stay.
                .AddView("aspnetcore.memory_pool.rented", MetricStreamConfiguration.Drop)
                .AddView("aspnetcore.memory_pool.pooled", MetricStreamConfiguration.Drop)
                // Routing counts every request's match attempt; the request histogram already has the route.
                .AddView("aspnetcore.routing.match_attempts", MetricStreamConfiguration.Drop)
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddPrometheusExporter();
            if (options.Endpoint is { Length: > 0 })
            {
                metrics.AddOtlpExporter(otlp => ConfigureOtlp(otlp, options));
            }
        });
        return builder;
    }

    private static void AddTracing(TracerProviderBuilder tracing, TelemetryOptions options)
    {
        tracing
            .SetSampler(new RootSampler(options.EffectiveTraceSampleRatio))
            .AddSource(Telemetry.Prefix + "*")
            .AddAspNetCoreInstrumentation(asp =>
            {
                asp.Filter = context => !IsScrapeOrProbe(context.Request.Path);
                asp.RecordException = true;
            })
            .AddHttpClientInstrumentation()
            // PostgreSQL commands from Npgsql's own source (raw and EF); EF Core's for SQLite.
            .AddNpgsql()
            .AddEntityFrameworkCoreInstrumentation(ef => ef.Filter = (provider, _) =>
                provider is not "Npgsql.EntityFrameworkCore.PostgreSQL")
            // A span per Redis command; without the client's three timing events on each
            // (enqueued, sent, answered), which the span's own start and end already bound.
            .AddRedisInstrumentation(redis => redis.EnrichActivityWithTimingEvents = false);
        if (options.Endpoint is { Length: > 0 })
        {
            tracing.AddOtlpExporter(otlp => ConfigureOtlp(otlp, options));
        }
    }

    private static void ConfigureOtlp(OtlpExporterOptions otlp, TelemetryOptions options)
    {
        otlp.Endpoint = new Uri(options.Endpoint!);
        otlp.Protocol = options.Protocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
    }

    private static bool IsScrapeOrProbe(PathString path) =>
        path.StartsWithSegments(MetricsPath, StringComparison.Ordinal) || path.StartsWithSegments("/health", StringComparison.Ordinal);

    /// <summary><c>GET /metrics</c> (Prometheus text) when telemetry is on; tagged internal, answered whatever the role.</summary>
    public static void MapMetrics(this WebApplication app)
    {
        if (app.Services.GetService<MeterProvider>() is not null)
        {
            app.MapPrometheusScrapingEndpoint(MetricsPath).Internal().OnEveryRole().WithoutAppSignature(); // scraped on every node, never shed
        }
    }
}

/// <summary>
/// Which new traces are recorded: one started by a request, a consumed message or a job (server,
/// consumer), at <c>TraceSampleRatio</c>. A database, Redis or HTTP call with no parent (a
/// background poll) starts none, so polling loops do not flood the trace store; anything inside
/// a recorded trace is recorded with it.
/// </summary>
internal sealed class RootSampler(double ratio) : Sampler
{
    private readonly TraceIdRatioBasedSampler _ratio = new(Math.Clamp(ratio, 0, 1));

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        if (samplingParameters.ParentContext.TraceId != default)
        {
            return (samplingParameters.ParentContext.TraceFlags & ActivityTraceFlags.Recorded) != 0
                ? new SamplingResult(SamplingDecision.RecordAndSample)
                : new SamplingResult(SamplingDecision.Drop);
        }
        return samplingParameters.Kind is ActivityKind.Server or ActivityKind.Consumer
            ? _ratio.ShouldSample(samplingParameters)
            : new SamplingResult(SamplingDecision.Drop);
    }
}
