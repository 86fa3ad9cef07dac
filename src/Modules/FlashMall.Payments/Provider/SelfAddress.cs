using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace FlashMall.Payments.Provider;

/// <summary>
/// The addresses the built-in simulator and this node reach each other at when none is
/// configured: the node's own first listening address (a wildcard host read as loopback).
/// </summary>
internal sealed class SelfAddress(IServer server, IOptions<PaymentsOptions> options)
{
    /// <summary>The provider API's base, ending in a slash.</summary>
    public Uri ProviderBase() => WithSlash(options.Value.Provider.BaseUrl is { } configured ? new Uri(configured) : new Uri(Own(), "simulator/"));

    public Uri NotifyUrl() => options.Value.NotifyUrl is { } configured ? new Uri(configured) : new Uri(Own(), "api/payments/webhook");

    private Uri Own()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses.FirstOrDefault()
            ?? throw new PaymentProviderException(ProviderFailure.NotSent, "This node listens on no address; configure Payments:Provider:BaseUrl and Payments:NotifyUrl.");
        var builder = new UriBuilder(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (builder.Host is "0.0.0.0" or "[::]" or "::")
        {
            builder.Host = "127.0.0.1";
        }
        return WithSlash(builder.Uri);
    }

    private static Uri WithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
