using System.Text.Encodings.Web;
using System.Text.Unicode;
using FlashMall.Kernel.Http;
using FlashMall.Web;
using FlashMall.Web.Components;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.WebEncoders;

// In ASP.NET Core's builder namespace (as its own Add*/Map* extensions are), so Program.cs needs no using.
namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The H5 store at <c>/</c> (non-core: shed by <c>noncore.shed</c>, answered then with a friendly
/// degraded page that still sells the live flash sales through the core API) and the ops console
/// at <c>/ops</c> (never shed: it is where shedding is undone). Pages are static server-rendered
/// Razor components; all data comes from the public API, called by the JavaScript in wwwroot
/// with the bearer token the browser keeps in its storage (never a cookie, never a URL).
/// </summary>
public static class WebModule
{
    private const string ReloadAtRuntimeKey = "ReloadStaticAssetsAtRuntime";

    public static WebApplicationBuilder AddWeb(this WebApplicationBuilder builder)
    {
        // Serves the library's wwwroot from the build output too (a published app has it in place).
        builder.WebHost.UseStaticWebAssets();
        // Run from a build (not a publish), MapStaticAssets would serve like a developer's hot-reload
        // server: no-cache, uncompressed, plus a catch-all file endpoint that declares no traffic
        // class (the start-up check refuses it). Unless asked for, it serves as a published app
        // does, in Development too: precompressed, fingerprinted URLs immutable for a year.
        if (builder.Configuration[ReloadAtRuntimeKey] is null)
        {
            builder.Configuration[ReloadAtRuntimeKey] = "false";
        }
        builder.Services.AddRazorComponents();
        // Chinese text leaves as UTF-8, not as &#x...; entities (a third of the bytes); <, >, &, ' and " stay encoded.
        builder.Services.Configure<WebEncoderOptions>(options => options.TextEncoderSettings = new TextEncoderSettings(UnicodeRanges.All));
        // First in line, so a shed store page is answered in HTML rather than problem+json.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<Microsoft.AspNetCore.Http.IProblemDetailsWriter, DegradedPageWriter>());
        return builder;
    }

    public static WebApplication MapWeb(this WebApplication app)
    {
        app.UseAntiforgery(); // Razor component endpoints require it; the pages take no form posts
        app.Use(static (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<WebPage>() is not null)
            {
                WebPage.ApplyHeaders(context.Response);
            }
            return next(context);
        });
        // Assets serve the store, its degraded page and the console: never shed, on every role.
        // Pages and assets are the browser's, not an app's: no app signature (the H5 store cannot
        // hold an app secret, so with Security:RequireSignedRequests its API calls are refused).
        app.MapStaticAssets().Internal().OnEveryRole().WithoutAppSignature();
        app.MapRazorComponents<App>().WithStaticAssets().Add(endpoint =>
        {
            var console = endpoint is RouteEndpointBuilder route && (route.RoutePattern.RawText ?? "").StartsWith("/ops", StringComparison.Ordinal);
            endpoint.Metadata.Add(console ? WebPage.Console : WebPage.Store);
            endpoint.Metadata.Add(NoAppSignature.Instance);
            // The console is never shed (it is where shedding is undone) and answers on every role.
            endpoint.Metadata.Add(console ? TrafficClass.Internal : TrafficClass.NonCore);
            if (console)
            {
                endpoint.Metadata.Add(ServedOnEveryRole.Instance);
            }
        });
        return app;
    }
}
