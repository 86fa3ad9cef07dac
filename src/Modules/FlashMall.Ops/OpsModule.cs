using FlashMall.Contracts.Ops;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Persistence;
using FlashMall.Ops.Endpoints;
using FlashMall.Ops.Persistence;
using FlashMall.Ops.Switches;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashMall.Ops;

/// <summary>
/// Ops: runtime switches stored in the <c>ops</c> schema, answered to every module through
/// <see cref="ISwitches"/> from an in-memory snapshot per node; changes through the API, with a
/// second operator's approval where required, every one audited; a change reaches every node
/// within a second (Redis pub/sub when <c>ConnectionStrings:Redis</c> is set, polling always).
/// <see cref="UseOps"/> sheds non-core endpoints while <c>noncore.shed</c> is on.
/// </summary>
public static class OpsModule
{
    public static IHostApplicationBuilder AddOps(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddModuleDbContext<OpsDbContext, OpsSqliteDbContext, OpsPostgresDbContext>(OpsDbContext.Schema);
        services.AddOptions<OpsOptions>().BindConfiguration(OpsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var production = builder.Environment.IsProduction();
        services.AddSingleton(sp => new OpsApproval(sp.GetRequiredService<IOptions<OpsOptions>>().Value.RequireApproval ?? production));

        services.AddSingleton<SwitchSnapshot>();
        services.AddSingleton<ISwitches>(sp => sp.GetRequiredService<SwitchSnapshot>());
        services.AddStartupTask<SeedSwitches>();
        services.AddHostedService<SwitchPoller>();
        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Redis")))
        {
            services.AddSingleton<ISwitchSignal, NoSwitchSignal>();
        }
        else
        {
            var prefix = builder.Configuration["Cache:KeyPrefix"] ?? "flashmall:";
            services.AddSingleton(sp => new RedisSwitchSignal(
                sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<SwitchSnapshot>(), prefix,
                sp.GetRequiredService<ILogger<RedisSwitchSignal>>()));
            services.AddSingleton<ISwitchSignal>(sp => sp.GetRequiredService<RedisSwitchSignal>());
            services.AddHostedService(sp => sp.GetRequiredService<RedisSwitchSignal>());
        }
        return builder;
    }

    /// <summary>The shedding middleware: after routing and authorization, before any non-core handler.</summary>
    public static IApplicationBuilder UseOps(this IApplicationBuilder app) => app.UseMiddleware<NonCoreShedding>();

    public static IEndpointRouteBuilder MapOps(this IEndpointRouteBuilder routes)
    {
        routes.MapOpsEndpoints();
        return routes;
    }
}

/// <summary>Whether a switch change waits for a second operator (<c>Ops:RequireApproval</c>, default: Production only).</summary>
internal sealed record OpsApproval(bool Required);
