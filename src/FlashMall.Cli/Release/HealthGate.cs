using System.Diagnostics;
using System.Net;

namespace FlashMall.Cli.Release;

/// <summary>The thresholds a new release must hold.</summary>
internal sealed record GateSettings(
    Uri BaseUrl, TimeSpan ReadyTimeout, TimeSpan Window, double MaxErrorRatio, double MaxP99Ms, long MinRequests, bool Emergency);

/// <summary>How the gate went; <see cref="Reason"/> says why it failed.</summary>
internal sealed record GateResult(bool Passed, string Reason, double Seconds, bool SoakSkipped, bool MetricsSeen, long Requests, double ErrorRatio, double? P99Ms);

/// <summary>
/// The health gate after a switch: <c>/health/ready</c> must answer 200 within the ready timeout
/// (never skipped, not even for an emergency), then for the whole window it must keep answering 200
/// while, from <c>/metrics</c>, the share of 5xx answers and the p99 latency of the requests served
/// since the window began stay under their thresholds. Any breach fails the gate at once.
/// </summary>
internal sealed class HealthGate(GateSettings settings, Output output)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    public async Task<GateResult> HoldAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = settings.BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        var last = "no answer";
        var ready = false;
        while (clock.Elapsed < settings.ReadyTimeout)
        {
            last = await ReadyAsync(http, cancellationToken);
            if (last == "200")
            {
                ready = true;
                break;
            }
            await Task.Delay(Poll, cancellationToken);
        }
        if (!ready)
        {
            return new GateResult(false, $"/health/ready did not answer 200 within {settings.ReadyTimeout.TotalSeconds:F0} s (last: {last})",
                clock.Elapsed.TotalSeconds, settings.Emergency, false, 0, 0, null);
        }
        output.Good($"  ready after {clock.Elapsed.TotalSeconds:F1} s");
        if (settings.Emergency)
        {
            output.Warn("  emergency: the soak window is skipped (readiness was checked)");
            return new GateResult(true, "ready (emergency: soak skipped)", clock.Elapsed.TotalSeconds, true, false, 0, 0, null);
        }

        // Counters start with the new process: a histogram absent now counts from zero once it appears.
        var baseline = await ScrapeAsync(http, cancellationToken);
        var metricsSeen = baseline is not null;
        var window = Stopwatch.StartNew();
        var notReady = 0;
        RequestHistogram current = new(0, 0, []);
        while (window.Elapsed < settings.Window)
        {
            await Task.Delay(Tick, cancellationToken);
            var status = await ReadyAsync(http, cancellationToken);
            notReady = status == "200" ? 0 : notReady + 1;
            if (notReady >= 2)
            {
                return Fail($"/health/ready answered {status} twice in a row during the window");
            }
            if (await ScrapeAsync(http, cancellationToken) is { } scrape)
            {
                metricsSeen = true;
                current = scrape.Since(baseline);
                var p99 = current.QuantileMs(0.99);
                output.Line($"  {window.Elapsed.TotalSeconds,4:F0} s  requests {current.Total,6}  5xx {current.ErrorRatio,7:P2}  p99 {(p99 is null ? "-" : $"{p99:F1} ms")}");
                if (current.Total >= settings.MinRequests && current.Total > 0)
                {
                    if (current.ErrorRatio > settings.MaxErrorRatio)
                    {
                        return Fail($"5xx ratio {current.ErrorRatio:P2} over the limit {settings.MaxErrorRatio:P2} ({current.Errors} of {current.Total} requests)");
                    }
                    if (p99 > settings.MaxP99Ms)
                    {
                        return Fail($"p99 {p99:F0} ms over the limit {settings.MaxP99Ms:F0} ms ({current.Total} requests)");
                    }
                }
            }
        }
        if (!metricsSeen)
        {
            output.Warn("  /metrics never showed http_server_request_duration_seconds: the gate checked readiness only");
        }
        return new GateResult(true, $"held for {settings.Window.TotalSeconds:F0} s", clock.Elapsed.TotalSeconds, false, metricsSeen,
            current.Total, current.ErrorRatio, current.QuantileMs(0.99));

        GateResult Fail(string reason) =>
            new(false, reason, clock.Elapsed.TotalSeconds, false, metricsSeen, current.Total, current.ErrorRatio, current.QuantileMs(0.99));
    }

    /// <summary>Waits until <c>/health/ready</c> answers 200; false after <paramref name="timeout"/>.</summary>
    public static async Task<bool> WaitReadyAsync(Uri baseUrl, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await ReadyAsync(http, cancellationToken) == "200")
            {
                return true;
            }
            await Task.Delay(Poll, cancellationToken);
        }
        return false;
    }

    private static async Task<string> ReadyAsync(HttpClient http, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync("health/ready", cancellationToken);
            return ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException ex)
        {
            return ex.HttpRequestError.ToString();
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "timeout";
        }
    }

    private static async Task<RequestHistogram?> ScrapeAsync(HttpClient http, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync("metrics", cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return null;
            }
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            return text.Contains(RequestHistogram.Metric, StringComparison.Ordinal) ? RequestHistogram.Parse(text) : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
