using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace FlashMall.Kernel.Http;

public static class RequestBodyLimits
{
    /// <summary>JSON bodies are at most 1 MB unless an endpoint declares its own limit.</summary>
    public const long DefaultMaxBodyBytes = 1024 * 1024;

    /// <summary>
    /// Refuses a declared body over the endpoint's limit before anything reads it, and caps
    /// undeclared (chunked) bodies through the server's own limit feature.
    /// </summary>
    /// <remarks>Nothing to do after the request: it hands the next middleware's task back (no state machine per request).</remarks>
    public static IApplicationBuilder UseRequestBodyLimits(this IApplicationBuilder app) => app.Use(next => context =>
    {
        var limit = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? DefaultMaxBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            return Problems.Problems.Create(StatusCodes.Status413PayloadTooLarge, ProblemCodes.PayloadTooLarge, "Payload too large",
                $"The body may be at most {limit} bytes.").ExecuteAsync(context);
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }
        return next(context);
    });
}
