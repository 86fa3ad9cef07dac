using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json.Serialization;
using System.Text.Unicode;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace FlashMall.Server.Hosting;

/// <summary>What every node has regardless of modules: logs, health, OpenAPI, limits, the request pipeline.</summary>
internal static partial class ServiceDefaults
{
    /// <summary>Keeps a listener on ASP.NET Core's activity source so every request has a trace id for logs and problems.</summary>
    private static readonly ActivityListener RequestActivities = new()
    {
        ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
        Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
    };

    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(options =>
        {
            options.IncludeScopes = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        builder.Logging.Configure(options => options.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        ActivitySource.AddActivityListener(RequestActivities);

        builder.Services.AddOptions<ServerRoleOptions>().Configure<IConfiguration>((options, configuration) =>
            options.Role = configuration["role"] ?? options.Role).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ServerRoleOptions>, ServerRoleValidator>();
        builder.Services.AddSingleton<IStartupFilter, TrafficClassStartupCheck>(); // first: it checks after every other filter mapped

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = RequestBodyLimits.DefaultMaxBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        });
        // Chinese text leaves as UTF-8 (a third of the bytes of \uXXXX escapes on a phone link);
        // HTML-sensitive characters (<, >, &, ', ") stay escaped so JSON is inert inside a page.
        // Numbers are numbers: "price": "100" is refused, not read (the web defaults allow it).
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.Encoder = JavaScriptEncoder.Create(UnicodeRanges.All);
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IConfiguration>(ConfigureReverseProxies);
        builder.Services.AddHealthChecks();
        builder.Services.AddOpenApi();
        builder.AddObservability();
        return builder;
    }

    /// <summary>The middleware order every request goes through; modules only add endpoints.</summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseProblemResponses();
        app.UseRouting();
        // The raw setting, not the options: a bad --role must reach the start-up validation (exit 2 naming it), not throw here.
        if ((app.Configuration["role"] ?? "all") != "all")
        {
            app.UseMiddleware<NodeRoleGate>(); // 421 wrong_role for endpoints this node's --role does not serve; an all node serves everything
        }
        app.UseLoadShedding(); // 503 degraded for non-core first when the node is saturated
        app.UseRequestBodyLimits();
        app.UseSignedRequests(); // Security:RequireSignedRequests
        var rateLimited = app.Configuration.GetValue($"{RateLimitingOptions.SectionName}:{nameof(RateLimitingOptions.Enabled)}", true);
        if (!rateLimited)
        {
            app.UseHotPaths(); // the purchase's lean path: authenticates itself, skips what follows (ADR 0009); the limiters need the full pipeline
        }
        app.UseAuthentication();
        app.UseRequestLogScope();
        app.UseRequestRateLimits(); // per user, device and IP (shared through Redis); off with RateLimiting:Enabled=false
        app.UseAuthorization();
        if (rateLimited)
        {
            app.UseRateLimiter(); // lifted for load tests: not even the middleware's cost remains
        }
        app.UseIdempotencyKeys();

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).Internal().OnEveryRole().WithoutAppSignature();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(DatabaseRegistration.ReadyTag) }).Internal().OnEveryRole().WithoutAppSignature();
        app.MapMetrics();
        app.MapOpenApi().NonCore(); // documentation for developers: an internal tool
        return app;
    }

    /// <summary>
    /// Behind HAProxy or nginx, the client's address (for per-IP limits and lockouts) is the one
    /// the proxy puts in <c>X-Forwarded-For</c> — believed only from the proxies named in
    /// <c>ReverseProxy:KnownProxies</c> (addresses) and <c>ReverseProxy:KnownNetworks</c> (CIDR).
    /// Loopback is trusted by default; any other sender's header is ignored.
    /// </summary>
    private static void ConfigureReverseProxies(ForwardedHeadersOptions options, IConfiguration configuration)
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        options.ForwardLimit = 1;
        foreach (var proxy in configuration.GetSection("ReverseProxy:KnownProxies").Get<string[]>() ?? [])
        {
            options.KnownProxies.Add(System.Net.IPAddress.TryParse(proxy, out var address)
                ? address
                : throw new OptionsValidationException("ReverseProxy", typeof(ForwardedHeadersOptions), [$"ReverseProxy:KnownProxies: '{proxy}' is not an IP address."]));
        }
        foreach (var network in configuration.GetSection("ReverseProxy:KnownNetworks").Get<string[]>() ?? [])
        {
            options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(network, out var range)
                ? range
                : throw new OptionsValidationException("ReverseProxy", typeof(ForwardedHeadersOptions), [$"ReverseProxy:KnownNetworks: '{network}' is not a CIDR range."]));
        }
    }

    /// <summary>Every log line of a request carries its request id and, once known, the user id (never more personal data).</summary>
    private static void UseRequestLogScope(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(RequestLogScope.CategoryName);
        app.Use(async (context, next) =>
        {
            RequestLogScope.TagTrafficClass(context);
            using var scope = RequestLogScope.Begin(logger, context);
            await next(context);
        });
    }

    /// <summary>Logs what this node is and where its data lives; connection strings appear without passwords.</summary>
    public static void LogStartup(this WebApplication app)
    {
        var database = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var data = app.Services.GetRequiredService<IOptions<DataOptions>>().Value;
        var role = app.Services.GetRequiredService<IOptions<ServerRoleOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FlashMall.Startup");
        var messaging = app.Services.GetRequiredService<IOptions<FlashMall.Kernel.Messaging.MessagingOptions>>().Value.Transport;
        var broker = Uri.TryCreate(app.Configuration.GetConnectionString("RabbitMq"), UriKind.Absolute, out var uri) ? $" {uri.Host}:{uri.Port}" : "";
        LogNode(logger, role.Role, app.Environment.EnvironmentName, DatabaseRegistration.Describe(database.ProviderKind, app.Configuration, data),
            string.IsNullOrEmpty(app.Configuration.GetConnectionString("Redis")) ? "in-process" : "in-process + Redis",
            messaging == FlashMall.Kernel.Messaging.MessagingTransport.RabbitMq ? $"RabbitMq{broker}" : "InProcess");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "FlashMall node role={Role} environment={Environment} database={Database} cache={Cache} messaging={Messaging}")]
    private static partial void LogNode(ILogger logger, string role, string environment, string database, string cache, string messaging);
}
