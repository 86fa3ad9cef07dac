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
