using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FlashMall.Media;

internal static class MediaStores
{
    public const string FileSystem = "FileSystem";
}

internal static class OutputFormats
{
    public const string Jpeg = "Jpeg";
    public const string Webp = "Webp";
}

/// <summary><c>Media:*</c>: where images are kept, how they are addressed, and what an upload may be.</summary>
internal sealed class MediaOptions
{
    public const string SectionName = "Media";

    /// <summary><c>FileSystem</c>: a folder under <c>Data:Directory</c>, served by the node.</summary>
    [Required]
    public string Store { get; set; } = MediaStores.FileSystem;

    /// <summary>When set (e.g. <c>https://cdn.example.com</c>), image URLs point at this host instead of the node (relative <c>/media/…</c>).</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Bytes one uploaded image may have; reading stops at the first byte over.</summary>
    [Range(1024, 100L * 1024 * 1024)]
    public long MaxImageBytes { get; set; } = 10L * 1024 * 1024;

    /// <summary>Width × height an image may declare in its header; larger ones are refused before decoding (pixel bombs).</summary>
    [Range(1, 200_000_000)]
    public long MaxPixels { get; set; } = 50_000_000;

    /// <summary>Width or height an image may declare.</summary>
    [Range(1, 65_535)]
    public int MaxDimension { get; set; } = 16_384;

    /// <summary><c>Jpeg</c> or <c>Webp</c>: what every stored size is re-encoded as.</summary>
    [Required]
    public string OutputFormat { get; set; } = OutputFormats.Jpeg;

    [Range(1, 100)]
    public int Quality { get; set; } = 85;

    /// <summary>Longest side of the full-size image (<c>url</c>); smaller images keep their size.</summary>
    [Range(64, 8192)]
    public int LargeSize { get; set; } = 2048;

    /// <summary>Longest side of the medium size (<c>mediumUrl</c>), for the feed.</summary>
    [Range(64, 8192)]
    public int MediumSize { get; set; } = 1080;

    /// <summary>Longest side of the thumbnail (<c>thumbUrl</c>).</summary>
    [Range(16, 2048)]
    public int ThumbSize { get; set; } = 320;

    /// <summary>Images decoded at once on this node: each may hold tens of MB of pixels.</summary>
    [Range(1, 256)]
    public int MaxConcurrentDecodes { get; set; } = Math.Max(1, Environment.ProcessorCount);

    public string FileExtension => OutputFormat == OutputFormats.Webp ? "webp" : "jpg";

    public string ContentType => OutputFormat == OutputFormats.Webp ? "image/webp" : "image/jpeg";
}

[OptionsValidator]
internal sealed partial class MediaOptionsDataValidator : IValidateOptions<MediaOptions>;

/// <summary>The choices and the URL: a typo must stop the node, not store images nowhere.</summary>
internal sealed class MediaOptionsValidator : IValidateOptions<MediaOptions>
{
    public ValidateOptionsResult Validate(string? name, MediaOptions options)
    {
        var failures = new List<string>();
        if (options.Store is not MediaStores.FileSystem)
        {
            failures.Add($"Media:Store must be {MediaStores.FileSystem} (the S3 adapter is not in this build), not '{options.Store}'.");
        }
        if (options.OutputFormat is not (OutputFormats.Jpeg or OutputFormats.Webp))
        {
            failures.Add($"Media:OutputFormat must be {OutputFormats.Jpeg} or {OutputFormats.Webp}, not '{options.OutputFormat}'.");
        }
        if (!string.IsNullOrEmpty(options.PublicBaseUrl)
            && !(Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.Query)))
        {
            failures.Add($"Media:PublicBaseUrl must be an absolute http(s) URL without a query, not '{options.PublicBaseUrl}'.");
        }
        if (!(options.ThumbSize <= options.MediumSize && options.MediumSize <= options.LargeSize))
        {
            failures.Add("Media:ThumbSize ≤ Media:MediumSize ≤ Media:LargeSize.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
