using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FlashMall.Media;

internal static class MediaStores
{
    public const string FileSystem = "FileSystem";
    public const string S3 = "S3";
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

    /// <summary><c>FileSystem</c> (a folder under <c>Data:Directory</c>) or <c>S3</c> (<see cref="S3"/>); the node serves either at <c>/media/</c>.</summary>
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

    /// <summary><c>Media:S3:*</c>, read when <see cref="Store"/> is <c>S3</c>.</summary>
    public S3StoreOptions S3 { get; set; } = new();

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
        if (options.Store is not (MediaStores.FileSystem or MediaStores.S3))
        {
            failures.Add($"Media:Store must be {MediaStores.FileSystem} or {MediaStores.S3}, not '{options.Store}'.");
        }
        if (options.Store == MediaStores.S3)
        {
            if (string.IsNullOrWhiteSpace(options.S3.Bucket))
            {
                failures.Add("Media:S3:Bucket is required when Media:Store is S3.");
            }
            if (!string.IsNullOrEmpty(options.S3.ServiceUrl) && !Uri.TryCreate(options.S3.ServiceUrl, UriKind.Absolute, out _))
            {
                failures.Add($"Media:S3:ServiceUrl must be an absolute URL, not '{options.S3.ServiceUrl}'.");
            }
            if (string.IsNullOrEmpty(options.S3.AccessKey) != string.IsNullOrEmpty(options.S3.SecretKey))
            {
                failures.Add("Media:S3:AccessKey and Media:S3:SecretKey go together (or neither, for the SDK's default credentials).");
            }
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

/// <summary>
/// <c>Media:S3:*</c>: an S3-compatible bucket. Without <see cref="ServiceUrl"/> the client talks
/// to AWS in <see cref="Region"/>; without keys it takes the SDK's default credentials (environment,
/// instance role).
/// </summary>
internal sealed class S3StoreOptions
{
    /// <summary>The endpoint of an S3-compatible server, e.g. <c>http://127.0.0.1:9000</c>.</summary>
    public string? ServiceUrl { get; set; }

    public string Bucket { get; set; } = "";

    public string Region { get; set; } = "us-east-1";

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>Key prefix of every object; <c>media/</c> lines bucket keys up with the node's <c>/media/</c> paths for a CDN.</summary>
    public string Prefix { get; set; } = "media/";

    /// <summary><c>http://host/bucket/key</c> rather than <c>http://bucket.host/key</c>: what most S3-compatible servers expect.</summary>
    public bool ForcePathStyle { get; set; } = true;
}
