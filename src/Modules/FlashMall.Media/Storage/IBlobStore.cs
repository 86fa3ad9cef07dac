namespace FlashMall.Media.Storage;

/// <summary>A stored object opened for reading.</summary>
internal sealed record BlobContent(Stream Content, long Length, DateTimeOffset LastModified);

/// <summary>
/// Where image bytes live. Names are content-addressed, so an object never changes once written:
/// a second write of the same name is a no-op, and readers may cache it forever.
/// </summary>
internal interface IBlobStore
{
    Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Writes the object unless one of that name exists; a reader never sees a half-written object.</summary>
    Task PutAsync(string name, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default);

    /// <summary>The object, or null when there is none of that name.</summary>
    Task<BlobContent?> OpenAsync(string name, CancellationToken cancellationToken = default);
}
