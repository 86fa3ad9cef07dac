using FlashMall.Catalog.Persistence;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace FlashMall.Catalog.Endpoints;

/// <summary>Sends cached JSON with its ETag and CDN-friendly caching headers; 304 when the client already has it.</summary>
internal sealed class CachedJsonResult(CachedJson json, string cacheControl) : IResult
{
    /// <summary>Browsers and CDNs may reuse a product for a few seconds and then must revalidate (cheap with the ETag).</summary>
    public const string PublicShortLived = "public, max-age=5, stale-while-revalidate=30";

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.Headers.ETag = json.ETag;
        response.Headers.CacheControl = cacheControl;
        response.Headers.Vary = HeaderNames.AcceptEncoding;

        if (Matches(httpContext.Request.Headers.IfNoneMatch, json.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = json.Body.Length;
        // HEAD: the same headers (length included) without the body, on any server.
        return HttpMethods.IsHead(httpContext.Request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(json.Body, httpContext.RequestAborted).AsTask();
    }

    /// <summary>If-None-Match uses the weak comparison (RFC 9110 §13.1.2): <c>W/</c> is ignored, <c>*</c> matches.</summary>
    private static bool Matches(Microsoft.Extensions.Primitives.StringValues ifNoneMatch, string etag)
    {
        if (ifNoneMatch.Count == 0)
        {
            return false;
        }
        if (!EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags))
        {
            return false;
        }
        var ours = new EntityTagHeaderValue(etag);
        return tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(ours, useStrongComparison: false));
    }
}
