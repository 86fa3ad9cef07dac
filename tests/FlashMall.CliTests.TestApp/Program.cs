using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;

// Mode: ok | notready (never ready) | fail500 (its API answers 500) — from testapp-mode.txt next to
// the app when present (the tests repackage one publish that way), else baked in at publish.
var assembly = typeof(Histogram).Assembly;
var modeFile = Path.Combine(AppContext.BaseDirectory, "testapp-mode.txt");
var mode = File.Exists(modeFile)
    ? File.ReadAllText(modeFile).Trim()
    : assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "TestAppMode")?.Value ?? "ok";
// The version the release tool deployed (its manifest), else the assembly's.
var manifest = Path.Combine(AppContext.BaseDirectory, "release-manifest.json");
var version = File.Exists(manifest)
    ? JsonDocument.Parse(File.ReadAllText(manifest)).RootElement.GetProperty("version").GetString()!
    : assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
var histogram = new Histogram();

// Records every request in OpenTelemetry's http.server.request.duration shape.
app.Use(async (context, next) =>
{
    var started = Stopwatch.GetTimestamp();
    await next(context);
    var route = context.Request.Path.Value ?? "/";
    histogram.Record(context.Request.Method, context.Response.StatusCode, route, Stopwatch.GetElapsedTime(started).TotalSeconds);
});

app.MapGet("/health/live", () => Results.Ok("live"));
app.MapGet("/health/ready", () => mode == "notready" ? Results.StatusCode(503) : Results.Ok("ready"));
app.MapGet("/version", () => Results.Ok(new { version, mode }));
app.MapGet("/api/hello", () => mode == "fail500" ? Results.StatusCode(500) : Results.Ok(new { hello = version }));
app.MapGet("/metrics", () => Results.Text(histogram.Render(), "text/plain; version=0.0.4"));
app.Run();

/// <summary>Counts per (method, status, route) in the OpenTelemetry default buckets, rendered as Prometheus text.</summary>
internal sealed class Histogram
{
    private static readonly double[] Bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
    private readonly ConcurrentDictionary<(string Method, int Status, string Route), long[]> _series = new();
    private readonly Lock _lock = new();

    public void Record(string method, int status, string route, double seconds)
    {
        var counts = _series.GetOrAdd((method, status, route), _ => new long[Bounds.Length + 1]);
        lock (_lock)
        {
            var i = Array.FindIndex(Bounds, b => seconds <= b);
            counts[i < 0 ? Bounds.Length : i]++;
        }
    }

    public string Render()
    {
        var text = new StringBuilder("# TYPE http_server_request_duration_seconds histogram\n");
        lock (_lock)
        {
            foreach (var ((method, status, route), counts) in _series)
            {
                var labels = $"http_request_method=\"{method}\",http_response_status_code=\"{status}\",http_route=\"{route}\"";
                long cumulative = 0;
                for (var i = 0; i < Bounds.Length; i++)
                {
                    cumulative += counts[i];
                    text.Append(CultureInfo.InvariantCulture, $"http_server_request_duration_seconds_bucket{{{labels},le=\"{Bounds[i]}\"}} {cumulative}\n");
                }
                cumulative += counts[^1];
                text.Append(CultureInfo.InvariantCulture, $"http_server_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {cumulative}\n");
                text.Append(CultureInfo.InvariantCulture, $"http_server_request_duration_seconds_count{{{labels}}} {cumulative}\n");
            }
        }
        return text.ToString();
    }
}
