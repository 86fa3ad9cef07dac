using Microsoft.Extensions.Configuration;

namespace FlashMall.Kernel.Hosting;

/// <summary>What the node's <c>--role</c> means for background work.</summary>
public static class NodeRoles
{
    public static readonly string[] All = ["all", "core", "noncore", "worker"];

    /// <summary>Relays, consumers and the scheduler run on <c>all</c> and <c>worker</c> nodes; <c>core</c> and <c>noncore</c> only write.</summary>
    public static bool RunsBackgroundWork(IConfiguration configuration) =>
        (configuration["role"] ?? "all") is "all" or "worker";

    /// <summary>Core traffic (purchases among it) is served on <c>all</c> and <c>core</c> nodes.</summary>
    public static bool ServesCore(IConfiguration configuration) =>
        (configuration["role"] ?? "all") is "all" or "core";
}
