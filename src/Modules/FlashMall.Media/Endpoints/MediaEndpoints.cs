using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using FlashMall.Media.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace FlashMall.Media.Endpoints;

/// <summary>
/// Serves stored images. A name is the hash of what it holds, so a response never changes: it is
/// cacheable by browsers and a CDN for a year (<c>immutable</c>), and its ETag is its name.
/// </summary>
internal static partial class MediaEndpoints
{
    public const string CacheControl = "public, max-age=31536000, immutable";

    public static void MapMediaEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/media/{name}", Get).WithTags("Media").NonCore().WithoutAppSignature().AllowAnonymous();
    }

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Get(
        string name, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        if (!StoredName().IsMatch(name))
        {
            return Problems.NotFound("image");
        }
        var blob = await store.OpenAsync(name, cancellationToken);
        if (blob is null)
        {
            return Problems.NotFound("image");
        }
        http.Response.Headers.CacheControl = CacheControl;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        var contentType = name.EndsWith(".webp", StringComparison.Ordinal) ? "image/webp" : "image/jpeg";
        return TypedResults.Stream(blob.Content, contentType, lastModified: blob.LastModified,
            entityTag: new EntityTagHeaderValue($"\"{Path.GetFileNameWithoutExtension(name)}\""));
    }

    /// <summary>What the pipeline names things: 40 hex digits, the size, the format. Nothing else reaches the store.</summary>
    [System.Text.RegularExpressions.GeneratedRegex("^[0-9a-f]{40}(-m|-t)?\\.(jpg|webp)$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex StoredName();
}
