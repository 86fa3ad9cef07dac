using Microsoft.AspNetCore.Http;

namespace FlashMall.Kernel.Http;

/// <summary>
/// The client's address as every limit, block list and decision log keys it: the connection's
/// remote address after trusted proxies (<c>ReverseProxy:*</c>), an IPv4-mapped IPv6 address
/// written as IPv4 — so one phone is one key whichever socket family accepted it.
/// </summary>
public static class ClientAddress
{
    /// <summary>The address as text, or <see langword="null"/> when the connection has none.</summary>
    /// <param name="context">The request.</param>
    public static string? Of(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString() : null;
}
