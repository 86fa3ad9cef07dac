using FlashMall.Contracts.Media;
using SkiaSharp;

namespace FlashMall.Media.Images;

/// <summary>
/// An upload in a temporary file that deletes itself when closed, with what its header said.
/// <see cref="Name"/> is the hash of its bytes: the same bytes always get the same stored names.
/// </summary>
internal sealed class StagedImage(FileStream file, string name, string format, int width, int height, SKEncodedOrigin origin) : IStagedImage
{
    public FileStream File { get; } = file;

    public string Name { get; } = name;

    public string Format { get; } = format;

    /// <summary>Width as displayed, after the EXIF orientation is applied.</summary>
    public int Width { get; } = width;

    /// <summary>Height as displayed, after the EXIF orientation is applied.</summary>
    public int Height { get; } = height;

    public SKEncodedOrigin Origin { get; } = origin;

    public long Length => File.Length;

    public ValueTask DisposeAsync() => File.DisposeAsync();
}
