using System.Globalization;
using System.Text.RegularExpressions;

namespace FlashMall.Cli.Release;

/// <summary>
/// The request-duration histogram read from Prometheus text: OpenTelemetry's
/// <c>http_server_request_duration_seconds</c> (<c>_bucket</c> with <c>le</c>, <c>_count</c>) with the
/// <c>http_response_status_code</c> label. Requests to <c>/health*</c> and <c>/metrics</c> (the gate's own) are left out.
/// </summary>
internal sealed partial record RequestHistogram(long Total, long Errors, SortedDictionary<double, long> Buckets)
{
    public const string Metric = "http_server_request_duration_seconds";

    public static RequestHistogram Parse(string text)
    {
        long total = 0, errors = 0;
        var buckets = new SortedDictionary<double, long>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || !line.StartsWith(Metric, StringComparison.Ordinal))
            {
                continue;
            }
            var match = Sample().Match(line);
            if (!match.Success)
            {
                continue;
            }
            var suffix = match.Groups["suffix"].Value;
            var labels = Labels(match.Groups["labels"].Value);
            if (labels.TryGetValue("http_route", out var route) && (route.StartsWith("/health", StringComparison.Ordinal) || route == "/metrics"))
            {
                continue;
            }
            if (!double.TryParse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }
            if (suffix == "_count")
            {
                total += (long)value;
                if (labels.TryGetValue("http_response_status_code", out var status) && status.StartsWith('5'))
                {
                    errors += (long)value;
                }
            }
            else if (suffix == "_bucket" && labels.TryGetValue("le", out var le))
            {
                var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, NumberStyles.Float, CultureInfo.InvariantCulture);
                buckets[bound] = buckets.GetValueOrDefault(bound) + (long)value;
            }
        }
        return new RequestHistogram(total, errors, buckets);
    }

    /// <summary>What happened between <paramref name="before"/> and this scrape (counters only grow within one process).</summary>
    public RequestHistogram Since(RequestHistogram? before)
    {
        if (before is null)
        {
            return this;
        }
        var buckets = new SortedDictionary<double, long>();
        foreach (var (bound, count) in Buckets)
        {
            buckets[bound] = Math.Max(0, count - before.Buckets.GetValueOrDefault(bound));
        }
        return new RequestHistogram(Math.Max(0, Total - before.Total), Math.Max(0, Errors - before.Errors), buckets);
    }

    public double ErrorRatio => Total == 0 ? 0 : (double)Errors / Total;

    /// <summary>The <paramref name="quantile"/> latency in ms, interpolated within its bucket; null without requests.</summary>
    public double? QuantileMs(double quantile)
    {
        var count = Buckets.Count > 0 ? Buckets.Values.Max() : 0;
        if (count == 0)
        {
            return null;
        }
        var rank = quantile * count;
        double lower = 0;
        long below = 0;
        foreach (var (bound, cumulative) in Buckets)
        {
            if (cumulative >= rank)
            {
                if (double.IsPositiveInfinity(bound))
                {
                    return lower * 1000;
                }
                var inBucket = cumulative - below;
                var fraction = inBucket == 0 ? 1 : (rank - below) / inBucket;
                return (lower + ((bound - lower) * fraction)) * 1000;
            }
            lower = bound;
            below = cumulative;
        }
        return lower * 1000;
    }

    private static Dictionary<string, string> Labels(string text)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in Label().Matches(text))
        {
            labels[m.Groups[1].Value] = m.Groups[2].Value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
        }
        return labels;
    }

    [GeneratedRegex(@"^http_server_request_duration_seconds(?<suffix>_bucket|_count|_sum)(\{(?<labels>.*)\})?\s+(?<value>\S+)")]
    private static partial Regex Sample();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
