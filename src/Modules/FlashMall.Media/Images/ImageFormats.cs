namespace FlashMall.Media.Images;

/// <summary>The formats we accept, told apart by their first bytes (never by the file name or Content-Type).</summary>
internal static class ImageFormats
{
    /// <summary>Bytes needed to tell every accepted format apart.</summary>
    public const int SniffLength = 12;

    public static string? Sniff(ReadOnlySpan<byte> head) => head switch
    {
        [0xFF, 0xD8, 0xFF, ..] => "jpeg",
        [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => "png",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "webp",
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'7' or (byte)'9', (byte)'a', ..] => "gif",
        _ => null,
    };
}
