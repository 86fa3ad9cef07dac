using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace FlashMall.Kernel.Http;

/// <summary>
/// What every request carries into its logs and metrics, on the full pipeline and on a hot path
/// alike: a log scope with its request id and, once known, the user id (never more personal
/// data); and its traffic class as a tag on ASP.NET Core's request metrics (RED per class).
/// </summary>
public static class RequestLogScope
{
    public const string CategoryName = "FlashMall.Request";
    public const string TrafficClassTag = "flashmall.traffic_class";

    /// <summary>After authentication (the user is known).</summary>
    public static IDisposable? Begin(ILogger logger, HttpContext context) =>
        logger.BeginScope(new Dictionary<string, object?>
        {
            ["RequestId"] = context.TraceIdentifier,
            ["UserId"] = context.User.FindFirst(FlashMallClaims.UserId)?.Value,
        });

    /// <summary>After routing. No allocation beyond the tag list ASP.NET Core keeps for the request.</summary>
    public static void TagTrafficClass(HttpContext context)
    {
        if (context.Features.Get<IHttpMetricsTagsFeature>() is { } metrics)
        {
            metrics.Tags.Add(new KeyValuePair<string, object?>(TrafficClassTag, TrafficClass.LabelOf(context)));
        }
    }
}
