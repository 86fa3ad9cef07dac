namespace FlashMall.Contracts.Media;

/// <summary>Why an upload was refused: the HTTP status a caller should answer with, a stable code and a sentence.</summary>
public sealed record ImageRefusal(int Status, string Code, string Detail);

/// <summary>An image the Media module has stored, with its public addresses (CDN-ready when <c>Media:PublicBaseUrl</c> is set).</summary>
public sealed record StoredImage(string Id, string Url, string MediumUrl, string ThumbUrl, int Width, int Height);

/// <summary>
/// One uploaded file held on local disk (never in memory) after its bytes, real format and
/// declared pixel dimensions were checked. Dispose it to delete the file.
/// </summary>
public interface IStagedImage : IAsyncDisposable
{
    /// <summary>The format sniffed from the bytes: <c>jpeg</c>, <c>png</c>, <c>webp</c> or <c>gif</c>.</summary>
    string Format { get; }

    int Width { get; }

    int Height { get; }

    long Length { get; }
}

/// <summary>The outcome of staging one file: a staged image, or a refusal.</summary>
public sealed record ImageStaging(IStagedImage? Image, ImageRefusal? Refusal);

/// <summary>The outcome of storing a batch: every image stored, in order, or a refusal and nothing stored.</summary>
public sealed record ImageBatch(IReadOnlyList<StoredImage> Images, ImageRefusal? Refusal);

/// <summary>
/// The Media module's upload pipeline for other modules (they never touch its files or store).
/// First stage every file as it streams in; then store them together once the whole request is
/// known to be acceptable, so a refused request leaves nothing behind.
/// </summary>
public interface IImageUploads
{
    /// <summary>Largest number of bytes one image may have (<c>Media:MaxImageBytes</c>).</summary>
    long MaxImageBytes { get; }

    /// <summary>
    /// Streams <paramref name="content"/> to a temporary file, refusing at once (and reading no
    /// further) past <see cref="MaxImageBytes"/> (413), a file that is not an image by its bytes
    /// (415), or a header that is unreadable or declares too many pixels (422).
    /// </summary>
    Task<ImageStaging> StageAsync(Stream content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Decodes each staged image, turns it upright, drops its metadata, re-encodes it in three
    /// sizes and stores them under content-addressed names (identical uploads are stored once).
    /// An image that does not decode refuses the batch (422) before anything is stored.
    /// </summary>
    Task<ImageBatch> StoreAsync(IReadOnlyList<IStagedImage> images, CancellationToken cancellationToken = default);
}
