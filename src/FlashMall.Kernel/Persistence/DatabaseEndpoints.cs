using FlashMall.Kernel.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlashMall.Kernel.Persistence;

/// <summary>A page of this node's slow queries, newest first, with the threshold they passed.</summary>
public sealed record SlowQueriesPage(IReadOnlyList<SlowQuery> Items, int Total, int Page, int PageSize, double ThresholdMs, int Capacity, string Node);

/// <summary>Where lag-tolerant reads go and each server's lag (PostgreSQL with replicas; otherwise <c>configured: false</c>).</summary>
public sealed record ReplicasView(bool Configured, bool ReadsGoToReplicas, string Reason, double MaxLagMs, DateTimeOffset? CheckedAt, IReadOnlyList<ReplicaHostStatus> Servers);

/// <summary>Operators' view of the database layer: slow queries and replica routing. Per node (each keeps its own ring).</summary>
public static class DatabaseEndpoints
{
    private static readonly string Node = $"{Environment.MachineName}:{Environment.ProcessId}";

    public static IEndpointRouteBuilder MapDatabaseAdmin(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/api/admin").WithTags("Database").NonCore().RequireAuthorization(Policies.Operator);
        admin.MapGet("/slow-queries", SlowQueries);
        admin.MapGet("/database/replicas", Replicas);
        return routes;
    }

    /// <summary>Newest first; <c>traceId</c> (32 hex digits) keeps one request's or job's queries.</summary>
    private static Results<Ok<SlowQueriesPage>, ProblemHttpResult> SlowQueries(
        PageRequest page, string? traceId, SlowQueryLog log, IOptionsMonitor<DatabaseOptions> options)
    {
        if (traceId is not null && (traceId.Length != 32 || !traceId.All(char.IsAsciiHexDigitLower)))
        {
            return Problems.Problems.Validation("traceId", "A W3C trace id: 32 lower-case hex digits.");
        }
        var (items, total) = log.Recent(page.Skip, page.PageSize, traceId is null ? null : q => q.TraceId == traceId);
        return TypedResults.Ok(new SlowQueriesPage(
            items, total, page.Page, page.PageSize, options.CurrentValue.SlowQueryThreshold.TotalMilliseconds, log.Capacity, Node));
    }

    private static Ok<ReplicasView> Replicas(ReplicaRouting routing, IServiceProvider services, IOptionsMonitor<DatabaseOptions> options)
    {
        var configured = services.GetService<PostgresDataSources>() is not null;
        var status = routing.Status;
        return TypedResults.Ok(new ReplicasView(
            configured, configured && status.ReadsGoToReplicas, configured ? status.Reason : "no replicas configured",
            options.CurrentValue.MaxReplicaLag.TotalMilliseconds, status.CheckedAt, status.Servers));
    }
}
