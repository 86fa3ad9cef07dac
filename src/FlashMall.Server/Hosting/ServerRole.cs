using Microsoft.Extensions.Options;

namespace FlashMall.Server.Hosting;

/// <summary>
/// <c>--role all|core|noncore|worker</c>: which part of the system this node serves. The same binary
/// runs every role; operators scale each separately behind a load balancer.
/// </summary>
internal sealed class ServerRoleOptions
{
    public static readonly string[] Roles = Kernel.Hosting.NodeRoles.All;

    public string Role { get; set; } = "all";
}

internal sealed class ServerRoleValidator : IValidateOptions<ServerRoleOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerRoleOptions options) =>
        ServerRoleOptions.Roles.Contains(options.Role, StringComparer.Ordinal)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"--role must be one of {string.Join(", ", ServerRoleOptions.Roles)}, not '{options.Role}'.");
}

/// <summary>
/// What a node of each <c>--role</c> answers: <c>all</c> everything; <c>core</c> only endpoints
/// tagged core; <c>noncore</c> only non-core ones; <c>worker</c> no API (it runs relays, consumers
/// and jobs). Health and metrics (<see cref="Kernel.Http.ServedOnEveryRole"/>) answer everywhere.
/// Anything else is refused <c>421 wrong_role</c> before authentication matters, so a mis-routed
/// request is plainly the load balancer's mistake.
/// </summary>
internal sealed class NodeRoleGate(RequestDelegate next, IOptions<ServerRoleOptions> options)
{
    private readonly string _role = options.Value.Role;

    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint() is not { } endpoint || Serves(_role, endpoint))
        {
            return next(context);
        }
        return Kernel.Problems.Problems.Create(StatusCodes.Status421MisdirectedRequest, Kernel.Problems.ProblemCodes.WrongRole, "Not served by this node",
            $"This node runs with --role {_role} and does not serve this endpoint; route it to the other cluster.").ExecuteAsync(context);
    }

    public static bool Serves(string role, Endpoint endpoint)
    {
        if (role == "all" || endpoint.Metadata.GetMetadata<Kernel.Http.ServedOnEveryRole>() is not null)
        {
            return true;
        }
        var trafficClass = Kernel.Http.TrafficClass.Of(endpoint);
        return role switch
        {
            "core" => trafficClass == Kernel.Http.TrafficClass.Core,
            "noncore" => trafficClass == Kernel.Http.TrafficClass.NonCore,
            _ => false,
        };
    }
}

/// <summary>
/// The start-up check that every endpoint declares its traffic class: it runs once the whole
/// pipeline (every module's endpoints, anything a start-up filter maps) is built, and throws
/// naming the untagged endpoints, so such a node never starts.
/// </summary>
internal sealed class TrafficClassStartupCheck : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        next(app);
        Kernel.Http.TrafficClassCheck.EnsureEveryEndpointTagged(app.ApplicationServices.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>());
    };
}
