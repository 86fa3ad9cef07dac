using FlashMall.Contracts.Risk;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Scheduling;
using FlashMall.Risk.Endpoints;
using FlashMall.Risk.Persistence;
using FlashMall.Risk.Rules;
using FlashMall.Risk.Velocity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlashMall.Risk;

/// <summary>
/// Risk: abuse rules other modules ask through <see cref="IRiskGate"/> (coupon claims: block
/// list, new-account cool-down, velocity per user, device and IP), the velocity counters
/// (in-process, or in Redis when <c>ConnectionStrings:Redis</c> is set) and the decisions log.
/// </summary>
public static class RiskModule
{
    public static IHostApplicationBuilder AddRisk(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddModuleDbContext<RiskDbContext, RiskSqliteDbContext, RiskPostgresDbContext>(RiskDbContext.Schema);

        services.AddOptions<RiskOptions>().BindConfiguration(RiskOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RiskOptions>, RiskOptionsValidator>();
        services.AddOptions<CouponClaimRiskOptions>().BindConfiguration(CouponClaimRiskOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CouponClaimRiskOptions>, CouponClaimRiskOptionsValidator>();
        services.AddOptions<BlockListOptions>().BindConfiguration(BlockListOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BlockListOptions>, BlockListOptionsValidator>();
        services.AddSingleton<BlockList>();
        services.AddSingleton<IHotPathVeto, BlockListVeto>();

        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Redis")))
        {
            services.AddSingleton<IVelocityCounters, InProcessVelocityCounters>();
        }
        else
        {
            services.AddSingleton(new RedisVelocityKeys(builder.Configuration["Cache:KeyPrefix"] ?? "flashmall:"));
            services.AddSingleton<IVelocityCounters, RedisVelocityCounters>();
        }

        services.AddSingleton<DecisionLog>();
        services.AddHostedService<DecisionWriter>();
        services.AddScoped<IRiskGate, CouponClaimGate>();
        services.AddScheduledJob<PurgeDecisionsJob>(PurgeDecisionsJob.Name,
            "Deletes decisions-log entries older than Risk:DecisionRetention.", JobSchedule.AtCron("0 27 3 * * ?"));
        return builder;
    }

    /// <summary>The block list on every API request (after authentication, so a blocked account is known).</summary>
    public static IApplicationBuilder UseRiskBlockList(this IApplicationBuilder app) => app.UseMiddleware<RequestBlockList>();

    public static IEndpointRouteBuilder MapRisk(this IEndpointRouteBuilder routes)
    {
        routes.MapRiskEndpoints();
        return routes;
    }
}
