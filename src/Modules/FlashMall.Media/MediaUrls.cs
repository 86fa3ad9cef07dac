using Microsoft.Extensions.Options;

namespace FlashMall.Media;

/// <summary>Public addresses of stored objects: <c>/media/{name}</c> on the node, or on <c>Media:PublicBaseUrl</c> (a CDN) when set.</summary>
internal sealed class MediaUrls(IOptions<MediaOptions> options)
{
    public const string PathPrefix = "/media/";

    private readonly string _base = (options.Value.PublicBaseUrl ?? "").TrimEnd('/');

    public string Of(string name) => _base + PathPrefix + name;
}
