using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FlashMall.Kernel.Http;

/// <summary>
/// An endpoint's traffic class, carried as endpoint metadata: <c>core</c> (buying, paying,
/// accounts) or <c>noncore</c> (browse lists, search, circle) — non-core is what the
/// <c>noncore.shed</c> switch refuses with 503 <c>degraded</c> so the core keeps its capacity,
/// what load shedding refuses first, and what a <c>--role core</c> node does not serve.
/// </summary>
public sealed class TrafficClass
{
    /// <summary>Buying, paying, accounts, product detail: kept up at any cost.</summary>
    public static readonly TrafficClass Core = new("core");

    /// <summary>Browsing, search, circle, internal tools: shed first.</summary>
    public static readonly TrafficClass NonCore = new("noncore");

    /// <summary>Operators' and machines' endpoints (health, <c>/metrics</c>): never shed, apart in the RED dashboards.</summary>
    public static readonly TrafficClass Internal = new("internal");

    private TrafficClass(string name) => Name = name;

    /// <summary><c>core</c>, <c>noncore</c> or <c>internal</c>.</summary>
    public string Name { get; }

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>The class declared on the request's endpoint, or <see langword="null"/> when it declares none.</summary>
    public static TrafficClass? Of(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<TrafficClass>();

    /// <summary>
    /// The label the request's metrics carry: its endpoint's class, <c>core</c> for an endpoint
    /// that declares none (buying, paying and accounts are not tagged), <c>unmatched</c> without an endpoint.
    /// </summary>
    public static string LabelOf(HttpContext context) => context.GetEndpoint() is { } endpoint
        ? endpoint.Metadata.GetMetadata<TrafficClass>()?.Name ?? Core.Name
        : "unmatched";

    /// <summary>The class declared on <paramref name="endpoint"/> (the last one declared wins, so an endpoint can override its group).</summary>
    public static TrafficClass? Of(Endpoint endpoint) => endpoint.Metadata.GetMetadata<TrafficClass>();
}

/// <summary>
/// Endpoint metadata: answered by a node of any <c>--role</c> (health probes, metrics) — a load
/// balancer checks every node, a <c>worker</c> included.
/// </summary>
public sealed class ServedOnEveryRole
{
    /// <summary>The one instance endpoints carry.</summary>
    public static readonly ServedOnEveryRole Instance = new();

    private ServedOnEveryRole()
    {
    }
}

/// <summary>Declaring an endpoint's traffic class where it is mapped.</summary>
public static class TrafficClassExtensions
{
    /// <summary>Tags the endpoint (or every endpoint of a group) non-core: shed first when the node degrades.</summary>
    public static TBuilder NonCore<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(TrafficClass.NonCore);

    /// <summary>Tags the endpoint internal (health, metrics): for machines and operators, not buyers.</summary>
    public static TBuilder Internal<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(TrafficClass.Internal);

    /// <summary>Tags the endpoint (or every endpoint of a group) core: never shed by class, served by <c>--role core</c> nodes.</summary>
    public static TBuilder Core<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(TrafficClass.Core);

    /// <summary>Marks an endpoint every node answers whatever its <c>--role</c> (health, metrics).</summary>
    public static TBuilder OnEveryRole<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(ServedOnEveryRole.Instance);
}

/// <summary>The start-up check: every routed endpoint declares its traffic class.</summary>
public static class TrafficClassCheck
{
    /// <summary>Each routed endpoint without a <see cref="TrafficClass"/>, as <c>METHODS pattern</c>.</summary>
    public static IReadOnlyList<string> Untagged(EndpointDataSource endpoints) =>
        [.. endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(e => TrafficClass.Of(e) is null)
            .Select(e => $"{string.Join(',', e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])} /{e.RoutePattern.RawText?.TrimStart('/')}")
            .Order(StringComparer.Ordinal)];

    /// <summary>Throws, naming every untagged endpoint, so the node does not start with one.</summary>
    /// <param name="endpoints">Every endpoint the node routes.</param>
    public static void EnsureEveryEndpointTagged(EndpointDataSource endpoints)
    {
        var untagged = Untagged(endpoints);
        if (untagged.Count > 0)
        {
            throw new InvalidOperationException(
                $"Every endpoint must declare its traffic class with .Core(), .NonCore() or .Internal() where it is mapped; untagged: {string.Join("; ", untagged)}");
        }
    }
}
