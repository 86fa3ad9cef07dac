using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FlashMall.Kernel.Http;

/// <summary>
/// An endpoint's traffic class, carried as endpoint metadata: <c>core</c> (buying, paying,
/// accounts) or <c>noncore</c> (browse lists, search, circle) — non-core is what the
/// <c>noncore.shed</c> switch refuses with 503 <c>degraded</c> so the core keeps its capacity.
/// </summary>
public sealed class TrafficClass
{
    public static readonly TrafficClass Core = new("core");
    public static readonly TrafficClass NonCore = new("noncore");

    /// <summary>Operators' and machines' endpoints (health, <c>/metrics</c>): never shed, apart in the RED dashboards.</summary>
    public static readonly TrafficClass Internal = new("internal");

    private TrafficClass(string name) => Name = name;

    public string Name { get; }

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
}

public static class TrafficClassExtensions
{
    /// <summary>Tags the endpoint (or every endpoint of a group) non-core: shed first when the node degrades.</summary>
    public static TBuilder NonCore<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(TrafficClass.NonCore);

    /// <summary>Tags the endpoint internal (health, metrics): for machines and operators, not buyers.</summary>
    public static TBuilder Internal<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(TrafficClass.Internal);
}
