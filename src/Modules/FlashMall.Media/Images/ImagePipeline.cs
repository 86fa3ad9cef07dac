using System.Buffers;
using System.Security.Cryptography;
using FlashMall.Contracts.Media;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Problems;
using FlashMall.Media.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace FlashMall.Media.Images;

/// <summary>
/// The upload pipeline. Staging streams a file to disk in 80 KB pieces (memory stays flat
/// whatever the size), hashing it as it goes, and stops reading at the first byte over the
/// limit or at a first few bytes that are not an image; then the header alone says the pixel
/// size, and too many pixels are refused before anything is decoded. Storing decodes (at a
/// reduced scale where the codec can), turns the image upright from its EXIF orientation, draws
/// it onto a fresh canvas (so no metadata survives), re-encodes three sizes and writes them
/// under names derived from the upload's hash.
/// </summary>
internal sealed class ImagePipeline(IBlobStore store, IOptions<MediaOptions> options, IOptions<DataOptions> data, MediaUrls urls) : IImageUploads, IDisposable
{
    public const string ImageTooLarge = "image_too_large";
    public const string ImageUndecodable = "image_undecodable";

    /// <summary>Name suffixes of the three stored sizes.</summary>
    public const string MediumSuffix = "-m";
    public const string ThumbSuffix = "-t";

    private const int BufferSize = 80 * 1024;
    private readonly MediaOptions _options = options.Value;
    private readonly string _staging = StagingFolder(data.Value);
    private readonly SemaphoreSlim _decodes = new(options.Value.MaxConcurrentDecodes);

    public long MaxImageBytes => _options.MaxImageBytes;

    public static string StagingFolder(DataOptions data) => Path.Combine(data.FullPath, "media-staging");

    public async Task<ImageStaging> StageAsync(Stream content, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(_staging);
        var file = new FileStream(Path.Combine(_staging, Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
            BufferSize, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        var staged = false;
        try
        {
            var refusal = await CopyCheckedAsync(content, file, cancellationToken);
            if (refusal.Refusal is not null)
            {
                return new ImageStaging(null, refusal.Refusal);
            }
            file.Position = 0;
            using (var codec = SKCodec.Create(new SKManagedStream(file, disposeManagedStream: false)))
            {
                if (codec is null)
                {
                    return Refuse(StatusCodes.Status422UnprocessableEntity, ImageUndecodable, "The image's header cannot be read.");
                }
                var (width, height) = (codec.Info.Width, codec.Info.Height);
                if (width <= 0 || height <= 0 || width > _options.MaxDimension || height > _options.MaxDimension || (long)width * height > _options.MaxPixels)
                {
                    return Refuse(StatusCodes.Status422UnprocessableEntity, ImageTooLarge,
                        $"The image declares {width}×{height} pixels; at most {_options.MaxDimension} a side and {_options.MaxPixels:N0} in all.");
                }
                var origin = codec.EncodedOrigin;
                if (SwapsSides(origin))
                {
                    (width, height) = (height, width);
                }
                staged = true;
                return new ImageStaging(new StagedImage(file, refusal.Name!, refusal.Format!, width, height, origin), null);
            }
        }
        finally
        {
            if (!staged)
            {
                await file.DisposeAsync();
            }
        }
    }

    private sealed record Copied(string? Name, string? Format, ImageRefusal? Refusal);

    private async Task<Copied> CopyCheckedAsync(Stream content, FileStream file, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long total = 0;
            string? format = null;
            int read;
            while ((read = await content.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
            {
                total += read;
                if (total > _options.MaxImageBytes)
                {
                    return new Copied(null, null, new ImageRefusal(StatusCodes.Status413PayloadTooLarge, ProblemCodes.PayloadTooLarge,
                        $"An image may be at most {_options.MaxImageBytes:N0} bytes."));
                }
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                if (format is null && file.Length >= ImageFormats.SniffLength)
                {
                    format = await SniffAsync(file, cancellationToken);
                    if (format is null)
                    {
                        return NotAnImage();
                    }
                }
            }
            format ??= await SniffAsync(file, cancellationToken);
            if (format is null)
            {
                return NotAnImage();
            }
            var digest = Convert.ToHexStringLower(hash.GetHashAndReset());
            return new Copied(digest[..40], format, null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static Copied NotAnImage() => new(null, null, new ImageRefusal(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
        "The file is not a JPEG, PNG, WebP or GIF image."));

    private static async Task<string?> SniffAsync(FileStream file, CancellationToken cancellationToken)
    {
        var position = file.Position;
        var head = new byte[ImageFormats.SniffLength];
        file.Position = 0;
        var length = await file.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        file.Position = position;
        return ImageFormats.Sniff(head.AsSpan(0, length));
    }

    private static ImageStaging Refuse(int status, string code, string detail) => new(null, new ImageRefusal(status, code, detail));

    public async Task<ImageBatch> StoreAsync(IReadOnlyList<IStagedImage> images, CancellationToken cancellationToken = default)
    {
        var renditions = new List<(string Name, byte[] Bytes)>();
        var stored = new List<StoredImage>(images.Count);
        foreach (var image in images.Cast<StagedImage>())
        {
            var large = Fit(image.Width, image.Height, _options.LargeSize);
            var baseName = NameOf(image);
            if (!await store.ExistsAsync(baseName + "." + _options.FileExtension, cancellationToken))
            {
                var encoded = await RenderAsync(image, cancellationToken);
                if (encoded is null)
                {
                    return new ImageBatch([], new ImageRefusal(StatusCodes.Status422UnprocessableEntity, ImageUndecodable, "An image could not be decoded."));
                }
                renditions.AddRange(encoded);
            }
            stored.Add(new StoredImage(baseName, urls.Of(baseName + "." + _options.FileExtension), urls.Of(baseName + MediumSuffix + "." + _options.FileExtension),
                urls.Of(baseName + ThumbSuffix + "." + _options.FileExtension), large.Width, large.Height));
        }
        // The full size last: its presence says the smaller ones are already there.
        foreach (var (name, bytes) in renditions.OrderBy(r => r.Name.Contains('-', StringComparison.Ordinal) ? 0 : 1))
        {
            await store.PutAsync(name, bytes, _options.ContentType, cancellationToken);
        }
        return new ImageBatch(stored, null);
    }

    /// <summary>
    /// 160 bits of SHA-256 over the upload's hash and the settings that shape its renditions: the
    /// same bytes are stored once, and a change of format or sizes never reuses old renditions.
    /// </summary>
    private string NameOf(StagedImage image)
    {
        var settings = $"{image.Name}|{_options.OutputFormat}|{_options.Quality}|{_options.LargeSize}|{_options.MediumSize}|{_options.ThumbSize}";
        return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(settings)))[..40];
    }

    private async Task<List<(string Name, byte[] Bytes)>?> RenderAsync(StagedImage image, CancellationToken cancellationToken)
    {
        await _decodes.WaitAsync(cancellationToken);
        try
        {
            image.File.Position = 0;
            using var codec = SKCodec.Create(new SKManagedStream(image.File, disposeManagedStream: false));
            if (codec is null)
            {
                return null;
            }
            var large = Fit(image.Width, image.Height, _options.LargeSize);
            using var upright = DecodeUpright(codec, image.Origin, large);
            if (upright is null)
            {
                return null;
            }
            var name = NameOf(image);
            var format = _options.OutputFormat == OutputFormats.Webp ? SKEncodedImageFormat.Webp : SKEncodedImageFormat.Jpeg;
            return
            [
                (name + "." + _options.FileExtension, Encode(upright, large, format)),
                (name + MediumSuffix + "." + _options.FileExtension, Encode(upright, Fit(image.Width, image.Height, _options.MediumSize), format)),
                (name + ThumbSuffix + "." + _options.FileExtension, Encode(upright, Fit(image.Width, image.Height, _options.ThumbSize), format)),
            ];
        }
        finally
        {
            _decodes.Release();
        }
    }

    /// <summary>
    /// Decodes at the smallest scale the codec offers that still covers <paramref name="target"/>
    /// (JPEG decodes at 1/2, 1/4, 1/8), then draws it upright on an opaque white canvas of
    /// exactly the target size: transparency flattens, and nothing but pixels is carried over.
    /// </summary>
    private static SKBitmap? DecodeUpright(SKCodec codec, SKEncodedOrigin origin, SKSizeI target)
    {
        var swap = SwapsSides(origin);
        var (sourceWidth, sourceHeight) = swap ? (target.Height, target.Width) : (target.Width, target.Height);
        var scale = Math.Min(1f, Math.Max((float)sourceWidth / codec.Info.Width, (float)sourceHeight / codec.Info.Height));
        var scaled = codec.GetScaledDimensions(scale);
        if (scaled.Width < sourceWidth || scaled.Height < sourceHeight)
        {
            scaled = codec.Info.Size;
        }
        var info = new SKImageInfo(scaled.Width, scaled.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result != SKCodecResult.Success)
        {
            return null;
        }
        var upright = new SKBitmap(new SKImageInfo(target.Width, target.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(upright);
        canvas.Clear(SKColors.White);
        float w = target.Width, h = target.Height;
        switch (origin)
        {
            case SKEncodedOrigin.TopRight: canvas.Translate(w, 0); canvas.Scale(-1, 1); break;
            case SKEncodedOrigin.BottomRight: canvas.Translate(w, h); canvas.RotateDegrees(180); break;
            case SKEncodedOrigin.BottomLeft: canvas.Translate(0, h); canvas.Scale(1, -1); break;
            case SKEncodedOrigin.LeftTop: canvas.RotateDegrees(90); canvas.Scale(1, -1); break;
            case SKEncodedOrigin.RightTop: canvas.Translate(w, 0); canvas.RotateDegrees(90); break;
            case SKEncodedOrigin.RightBottom: canvas.Translate(w, h); canvas.RotateDegrees(-90); canvas.Scale(1, -1); break;
            case SKEncodedOrigin.LeftBottom: canvas.Translate(0, h); canvas.RotateDegrees(-90); break;
            default: break;
        }
        using var image = SKImage.FromBitmap(decoded);
        canvas.DrawImage(image, new SKRect(0, 0, sourceWidth, sourceHeight), new SKSamplingOptions(SKCubicResampler.Mitchell));
        canvas.Flush();
        return upright;
    }

    private byte[] Encode(SKBitmap upright, SKSizeI size, SKEncodedImageFormat format)
    {
        using var resized = size == new SKSizeI(upright.Width, upright.Height)
            ? null
            : upright.Resize(new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul), new SKSamplingOptions(SKCubicResampler.Mitchell));
        using var data = (resized ?? upright).Encode(format, _options.Quality)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode {format}.");
        return data.ToArray();
    }

    /// <summary>The size within <paramref name="longest"/> on its longer side, keeping the aspect ratio; never enlarged.</summary>
    public static SKSizeI Fit(int width, int height, int longest)
    {
        var scale = Math.Min(1d, (double)longest / Math.Max(width, height));
        return new SKSizeI(Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
    }

    private static bool SwapsSides(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    public void Dispose() => _decodes.Dispose();
}
