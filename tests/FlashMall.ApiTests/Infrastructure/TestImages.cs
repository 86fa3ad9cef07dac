using System.Buffers.Binary;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using SkiaSharp;

namespace FlashMall.ApiTests.Infrastructure;

/// <summary>Real images made in the test (SkiaSharp), and hand-built files that only pretend to be images.</summary>
public static class TestImages
{
    /// <summary>Marker text written into the EXIF of <see cref="JpegWithExif"/>: it must never come back out.</summary>
    public const string SecretMarker = "FLASHMALL-GPS-31.2304N-121.4737E";

    /// <summary>A photo-like image: left half red, right half blue, a little noise so it does not compress to nothing.</summary>
    public static byte[] Photo(int width, int height, SKEncodedImageFormat format, int seed = 1, int quality = 90)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using var red = new SKPaint { Color = SKColors.Red };
            using var blue = new SKPaint { Color = SKColors.Blue };
            canvas.DrawRect(0, 0, width / 2f, height, red);
            canvas.DrawRect(width / 2f, 0, width / 2f, height, blue);
            var random = new Random(seed);
            using var dot = new SKPaint { Color = SKColors.Green };
            for (var i = 0; i < 200; i++)
            {
                canvas.DrawCircle(random.Next(width), random.Next(height), 2, dot);
            }
        }
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    /// <summary>
    /// A JPEG stored sideways (<paramref name="width"/>×<paramref name="height"/> pixels) whose EXIF
    /// says "rotate 90° clockwise to view" (orientation 6), with a GPS block and a description holding
    /// <see cref="SecretMarker"/>.
    /// </summary>
    public static byte[] JpegWithExif(int width, int height)
    {
        var jpeg = Photo(width, height, SKEncodedImageFormat.Jpeg);
        var marker = Encoding.ASCII.GetBytes(SecretMarker + "\0");
        var tiff = new List<byte>();
        void U16(int v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)v); tiff.AddRange(b); }
        void U32(int v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(b, (uint)v); tiff.AddRange(b); }
        // TIFF header, then IFD0 at 8 with 3 entries (2 + 3×12 + 4 = 42 bytes), the GPS IFD at 50, the marker after it.
        const int ifd0 = 8, gpsIfd = ifd0 + 2 + 3 * 12 + 4, markerAt = gpsIfd + 2 + 12 + 4;
        tiff.AddRange("MM\0*"u8.ToArray());
        U32(ifd0);
        U16(3);
        U16(0x010E); U16(2); U32(marker.Length); U32(markerAt);  // ImageDescription
        U16(0x0112); U16(3); U32(1); U16(6); U16(0);             // Orientation: 6
        U16(0x8825); U16(4); U32(1); U32(gpsIfd);                 // GPS IFD pointer
        U32(0);
        U16(1);
        U16(0x0001); U16(2); U32(2); tiff.AddRange("N\0\0\0"u8.ToArray()); // GPSLatitudeRef
        U32(0);
        tiff.AddRange(marker);
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment, 4);
        return [.. jpeg[..2], .. segment, .. jpeg[2..]];
    }

    /// <summary>A valid PNG whose header declares <paramref name="width"/>×<paramref name="height"/> but whose data is a few bytes: a pixel bomb.</summary>
    public static byte[] PngDeclaring(int width, int height)
    {
        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // RGB
        WriteChunk(output, "IHDR", header);
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                zlib.Write(new byte[64 * 1024]);
            }
            WriteChunk(output, "IDAT", compressed.ToArray());
        }
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        output.Write(length);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        output.Write(typeAndData);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        output.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }
        return ~crc;
    }

    /// <summary>True when the JPEG has an APP1 segment (EXIF or XMP) before its image data.</summary>
    public static bool HasApp1(byte[] jpeg)
    {
        var i = 2;
        while (i + 4 <= jpeg.Length && jpeg[i] == 0xFF)
        {
            var marker = jpeg[i + 1];
            if (marker == 0xE1)
            {
                return true;
            }
            if (marker == 0xDA)
            {
                return false; // start of scan: no more metadata segments
            }
            i += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(i + 2));
        }
        return false;
    }

    /// <summary>A multipart post body: <paramref name="text"/> and each image as a part named <c>images</c>.</summary>
    public static MultipartFormDataContent Post(string? text, params (byte[] Bytes, string FileName, string ContentType)[] images)
    {
        var content = new MultipartFormDataContent();
        if (text is not null)
        {
            content.Add(new StringContent(text, Encoding.UTF8), "text");
        }
        foreach (var (bytes, fileName, contentType) in images)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            content.Add(part, "images", fileName);
        }
        return content;
    }

    public static (byte[], string, string) Jpeg(byte[] bytes, string name = "photo.jpg") => (bytes, name, "image/jpeg");
}

/// <summary>A stream of <paramref name="length"/> bytes made on the fly (never held): a JPEG's first bytes, then zeros.</summary>
public sealed class GeneratedStream(long length) : Stream
{
    private long _position;

    public long BytesRead => _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = (int)Math.Min(count, length - _position);
        Array.Clear(buffer, offset, n);
        for (var i = 0; i < n && _position + i < 3; i++)
        {
            buffer[offset + i] = (byte)(_position + i == 2 ? 0xFF : _position + i == 1 ? 0xD8 : 0xFF);
        }
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
