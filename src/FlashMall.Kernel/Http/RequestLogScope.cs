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

    /// <summary>
    /// After authentication (the user is known): the user id. The request id (and path) are in the
    /// scope ASP.NET Core's host opens for every request, so this one carries only what it adds.
    /// </summary>
    public static IDisposable? Begin(ILogger logger, HttpContext context) =>
        logger.BeginScope(new UserScope(context.User.UserIdValue()));

    /// <summary>After routing. No allocation beyond the tag list ASP.NET Core keeps for the request.</summary>
    public static void TagTrafficClass(HttpContext context)
    {
        if (context.Features.Get<IHttpMetricsTagsFeature>() is { } metrics)
        {
            metrics.Tags.Add(new KeyValuePair<string, object?>(TrafficClassTag, TrafficClass.LabelOf(context)));
        }
    }
}

/// <summary>
/// The user id as a log scope: one small object, read only when a line is written (the
/// formatters enumerate a scope's pairs), where a dictionary would be built for every request.
/// </summary>
internal sealed class UserScope(string? userId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string Key = "UserId";

    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? new(Key, userId) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"{Key}:{userId}";
}
