using System.Diagnostics.Metrics;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace FlashMall.Kernel.Http;

/// <summary>
/// Endpoint metadata: a lean handler for a hot core endpoint (the flash-sale purchase, where a
/// sale's opening second is decided). <see cref="HotPathMiddleware"/> runs it right after the
/// checks every request gets — routing, role gate, load shedding, body limits, signed requests —
/// instead of the rest of the pipeline: it authenticates with the default scheme itself (a missing
/// or bad token is challenged exactly as authorization would) unless an <see cref="IHotPathAuthenticator"/>
/// already knows the caller, opens the request's log scope, and
/// the handler binds its few inputs by hand and runs the endpoint's own code. The handler returns
/// <c>false</c>, having changed nothing, for a request it does not recognise (a body it cannot
/// read, an unusual content type): the full pipeline then answers it as it always did.
/// </summary>
/// <param name="handle">The lean handler; <c>false</c> leaves the request to the full pipeline.</param>
public sealed class HotPath(Func<HttpContext, ValueTask<bool>> handle)
{
    public Func<HttpContext, ValueTask<bool>> Handle { get; } = handle;
}

/// <summary>
/// A module whose middleware must see requests a hot path would skip (the block list while it
/// holds anything): while it vetoes, those requests take the full pipeline.
/// </summary>
public interface IHotPathVeto
{
    bool Vetoes(HttpContext context);
}

/// <summary>
/// A module that can tell, without the authentication handler, who sends a request whose token it
/// has already validated in full and that needs no check beyond that (a buyer's token, on a sale
/// night sent with request after request). The hot paths ask it first and authenticate with the
/// default scheme only when it does not know the token.
/// </summary>
public interface IHotPathAuthenticator
{
    /// <summary>
    /// The request's user, or null: authenticate the usual way. The principal may be shared by
    /// every request with the same token: a hot handler reads it and never changes it.
    /// </summary>
    ClaimsPrincipal? TryAuthenticate(HttpContext context);
}

/// <summary>Marking hot endpoints and placing their middleware.</summary>
public static class HotPathRegistration
{
    /// <summary>Gives a core endpoint a lean handler (see <see cref="HotPath"/>); checked at start-up.</summary>
    public static RouteHandlerBuilder WithHotPath(this RouteHandlerBuilder builder, Func<HttpContext, ValueTask<bool>> handle) =>
        builder.WithMetadata(new HotPath(handle));

    /// <summary>
    /// Placed after signed requests and before authentication, and only on nodes whose request-rate
    /// limits are off (<c>RateLimiting:Enabled=false</c>: load tests, or limits kept at the edge):
    /// those limiters run after authentication and a hot path would skip them.
    /// </summary>
    public static IApplicationBuilder UseHotPaths(this IApplicationBuilder app) => app.UseMiddleware<HotPathMiddleware>();

    /// <summary>
    /// What a hot endpoint must be for its lean handler to skip nothing that applies to it: core
    /// (non-core switches and shedding act on the other class), requiring only an authenticated
    /// user (no policy, role or scheme of its own), and no idempotency middleware of the kernel's
    /// (the handler reads <c>Idempotency-Key</c> itself). One message per endpoint that is not.
    /// </summary>
    public static IReadOnlyList<string> Misdeclared(EndpointDataSource endpoints) =>
        [.. endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HotPath>() is not null)
            .Select(e => (Endpoint: e, Problem: Problem(e)))
            .Where(e => e.Problem is not null)
            .Select(e => $"/{e.Endpoint.RoutePattern.RawText?.TrimStart('/')}: {e.Problem}")];

    private static string? Problem(RouteEndpoint endpoint)
    {
        var authorize = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>();
        return TrafficClass.Of(endpoint) != TrafficClass.Core ? "a hot path must be a core endpoint"
            : authorize.Count == 0 || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null ? "a hot path must require an authenticated user"
            : authorize.Any(a => a.Policy is not null || a.Roles is not null || a.AuthenticationSchemes is not null)
                ? "a hot path authorizes an authenticated user only: no policy, role or scheme"
            : endpoint.Metadata.GetMetadata<Idempotency.IdempotentEndpointMetadata>() is not null ? "a hot path reads Idempotency-Key itself"
            : null;
    }
}

/// <summary>The hot paths' middleware: see <see cref="HotPath"/>.</summary>
internal sealed class HotPathMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IHotPathVeto[] _vetoes;
    private readonly IHotPathAuthenticator[] _authenticators;
    private readonly ILogger _requestLogger;

    public const string MeterName = "FlashMall.Http";
    public const string CounterName = "flashmall.http.hot_path";
    private static readonly KeyValuePair<string, object?> Handled = new("outcome", "handled");
    private static readonly KeyValuePair<string, object?> FullPipeline = new("outcome", "full_pipeline");
    private readonly Counter<long> _requests;

    public HotPathMiddleware(
        RequestDelegate next, IEnumerable<IHotPathVeto> vetoes, IEnumerable<IHotPathAuthenticator> authenticators, ILoggerFactory loggers,
        EndpointDataSource endpoints, IMeterFactory meters)
    {
        if (HotPathRegistration.Misdeclared(endpoints) is { Count: > 0 } wrong)
        {
            throw new InvalidOperationException($"Misdeclared hot paths: {string.Join("; ", wrong)}");
        }
        _next = next;
        _vetoes = [.. vetoes];
        _authenticators = [.. authenticators];
        _requestLogger = loggers.CreateLogger(RequestLogScope.CategoryName);
        _requests = meters.Create(MeterName).CreateCounter<long>(CounterName, "{request}",
            "Requests to hot endpoints: answered by the lean path (handled), or left to the full pipeline (vetoed, or a request the lean path does not read).");
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<HotPath>() is not { } hot)
        {
            return _next(context);
        }
        foreach (var veto in _vetoes)
        {
            if (veto.Vetoes(context))
            {
                _requests.Add(1, FullPipeline);
                return _next(context);
            }
        }
        return RunAsync(context, hot);
    }

    private async Task RunAsync(HttpContext context, HotPath hot)
    {
        if (Remembered(context) is not { } user)
        {
            var authentication = await context.AuthenticateAsync();
            if (!authentication.Succeeded)
            {
                // What authorization does for an endpoint that requires a user: the scheme's challenge
                // (401 unauthorized without a token, invalid_token with a bad one).
                using (RequestLogScope.Begin(_requestLogger, context))
                {
                    await context.ChallengeAsync();
                }
                RequestLogScope.TagTrafficClass(context);
                _requests.Add(1, Handled);
                return;
            }
            user = authentication.Principal;
        }
        context.User = user;
        bool handled;
        using (RequestLogScope.Begin(_requestLogger, context))
        {
            handled = await hot.Handle(context);
        }
        if (handled)
        {
            RequestLogScope.TagTrafficClass(context);
            _requests.Add(1, Handled);
        }
        else
        {
            _requests.Add(1, FullPipeline);
            await _next(context);
        }
    }

    private ClaimsPrincipal? Remembered(HttpContext context)
    {
        foreach (var authenticator in _authenticators)
        {
            if (authenticator.TryAuthenticate(context) is { } user)
            {
                return user;
            }
        }
        return null;
    }
}
