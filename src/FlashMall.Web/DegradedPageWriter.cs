using System.Text.Encodings.Web;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;

namespace FlashMall.Web;

/// <summary>
/// While <c>noncore.shed</c> refuses the store's pages (503 <c>degraded</c>), a browser gets a
/// friendly page instead of problem+json: browsing is paused, and the live flash sales are listed
/// with their buy buttons, which call the core API and keep working.
/// </summary>
internal sealed class DegradedPageWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) =>
        context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<WebPage>() is { IsConsole: false }
        && context.ProblemDetails.Extensions.TryGetValue("code", out var code) && code as string == ProblemCodes.Degraded;

    public async ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var assets = http.GetEndpoint()?.Metadata.GetMetadata<ResourceAssetCollection>();
        string Asset(string path) => assets?[path] ?? path;
        var text = Texts.For(http);
        var html = HtmlEncoder.Default;
        WebPage.ApplyHeaders(http.Response);
        http.Response.ContentType = "text/html; charset=utf-8";
        var page = $"""
            <!DOCTYPE html>
            <html lang="{text.HtmlLang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
            <meta name="server-time" content="{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}">
            <title>{html.Encode(text["degraded.title"])}</title>
            <link rel="stylesheet" href="/{Asset(WebAssets.Css)}"><link rel="manifest" href="/{Asset(WebAssets.Manifest)}"></head>
            <body><header class="bar"><a class="logo" href="/">FlashMall</a></header>
            <main data-page="degraded" class="page">
            <section class="degraded" role="status"><h1>{html.Encode(text["degraded.title"])}</h1><p>{html.Encode(text["degraded.body"])}</p>
            <a class="btn ghost" href="{html.Encode(http.Request.Path + http.Request.QueryString)}">{html.Encode(text["degraded.retry"])}</a></section>
            <h2>{html.Encode(text["home.live"])}</h2><ul class="sales" id="live" aria-live="polite"></ul>
            </main>
            <script type="module" src="/{Asset(WebAssets.Js)}"></script>
            </body></html>
            """;
        await http.Response.WriteAsync(page, http.RequestAborted);
    }
}

/// <summary>The library's static files, as named before fingerprinting.</summary>
internal static class WebAssets
{
    public const string Css = "_content/FlashMall.Web/app.css";
    public const string Manifest = "_content/FlashMall.Web/manifest.webmanifest";
    public const string Js = "_content/FlashMall.Web/app.js";
}
