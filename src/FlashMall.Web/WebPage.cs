using Microsoft.AspNetCore.Http;

namespace FlashMall.Web;

/// <summary>Endpoint metadata marking a page of the store or of the console, and the headers every page carries.</summary>
internal sealed class WebPage
{
    public static readonly WebPage Store = new(false);
    public static readonly WebPage Console = new(true);

    /// <summary>
    /// Scripts only from our own files (no inline script, no handlers, no eval); styles likewise;
    /// images from here or the media store's https address; API calls to this origin only.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; " +
        "connect-src 'self'; font-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; " +
        "form-action 'self'; frame-ancestors 'self'";

    private WebPage(bool isConsole) => IsConsole = isConsole;

    public bool IsConsole { get; }

    public static void ApplyHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        // A page is a thin shell whose asset URLs change with every release: always revalidate.
        headers.CacheControl = "no-cache";
    }
}
