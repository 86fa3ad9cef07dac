using FlashMall.FlashSales.Demo;
using FlashMall.FlashSales.Endpoints;
using FlashMall.FlashSales.Ledger;
using FlashMall.FlashSales.Ledger.Journal;
using FlashMall.FlashSales.Ledger.Redis;
using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Scheduling;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlashMall.FlashSales;

/// <summary>
/// Flash sales: sale events, the stock ledger (embedded: <see cref="InProcessLedger"/> with a
/// group-committed journal written behind to the database; production: <see cref="RedisLedger"/>),
/// purchase admission and reservations.
/// </summary>
public static class FlashSalesModule
{
    /// <summary>Purchase attempts per buyer per second (a person taps; a script floods).</summary>
    public const int PurchasesPerUserPerSecond = 5;

    public static IHostApplicationBuilder AddFlashSales(this IHostApplicationBuilder builder)
    {
        builder.AddModuleDbContext<FlashSalesDbContext, FlashSalesSqliteDbContext, FlashSalesPostgresDbContext>(FlashSalesDbContext.Schema);
        builder.Services.AddStartupTask<DemoFlashSales>();

        builder.Services.AddOptions<FlashSalesOptions>().BindConfiguration(FlashSalesOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<FlashSalesOptions>, FlashSalesOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<FlashSalesOptions>, LedgerNeedsRedis>();
        builder.Services.AddStartupTask<LedgerChoice>();
        builder.Services.AddSingleton<SaleDirectory>();
        builder.Services.AddScoped<FlashMall.Contracts.FlashSales.IFlashSaleReservations, FlashSaleReservations>();
        builder.Services.AddScoped<FlashMall.Contracts.FlashSales.IFlashSaleReservationLog, FlashSaleReservations>();
        builder.Services.AddSingleton<ReservationWriter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReservationWriter>());
        if (LedgerChoice.UsesRedis(builder.Configuration))
        {
            builder.Services.AddOptions<RedisLedgerOptions>().BindConfiguration(RedisLedgerOptions.SectionName).ValidateOnStart();
            builder.Services.AddSingleton<IValidateOptions<RedisLedgerOptions>, RedisLedgerOptionsValidator>();
            builder.Services.AddSingleton(new RedisLedgerKeys(builder.Configuration["Cache:KeyPrefix"] ?? "flashmall:"));
            builder.Services.AddSingleton<ReservationStream>();
            builder.Services.AddSingleton<IStockLedger, RedisLedger>();
            if (NodeRoles.RunsBackgroundWork(builder.Configuration))
            {
                builder.Services.AddHostedService<ReservationStreamWorker>();
            }
        }
        else
        {
            // The node's own journal, on the nodes that sell (all, core); written behind by the node itself.
            var sells = NodeRoles.ServesCore(builder.Configuration);
            builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<ReservationJournal>(sp, sells));
            builder.Services.AddSingleton<InProcessLedger>();
            builder.Services.AddSingleton<IStockLedger>(sp => sp.GetRequiredService<InProcessLedger>());
            if (sells)
            {
                builder.Services.AddHostedService<JournalDrain>();
            }
        }
        builder.Services.AddScheduledJob<WarmUpcomingSalesJob>(WarmUpcomingSalesJob.Name,
            "Loads sales that are live or start within 10 minutes into the stock ledger.", JobSchedule.Every(TimeSpan.FromMinutes(1)));
        builder.Services.AddSingleton<SaleReconciler>();
        builder.Services.AddSingleton<FlashSalesTelemetry>();
        // The Redis ledger's release runs its script before the commit: one message per transaction.
        builder.Services.AddIntegrationEventConsumer<FlashSalesDbContext, FlashMall.Contracts.Ordering.OrderCancelled, ReleaseOnOrderCancelled>(
            ReleaseOnOrderCancelled.Consumer, oneAtATime: true);
        builder.Services.AddIntegrationEventConsumer<FlashSalesDbContext, FlashMall.Contracts.Ordering.OrderRefunded, ReleaseOnOrderRefunded>(
            ReleaseOnOrderRefunded.Consumer, oneAtATime: true);
        builder.Services.AddScheduledJob<ReconcileSalesJob>(ReconcileSalesJob.Name,
            "Checks quantity = ordered + reserved + remaining for every live or recently ended sale; a difference is logged at Error and counted.",
            JobSchedule.Every(TimeSpan.FromSeconds(30)));
        builder.Services.Configure<RateLimiterOptions>(options => options.AddPerUserPolicy(
            FlashSaleEndpoints.PurchaseRateLimitPolicy, builder.Configuration, PurchasesPerUserPerSecond, TimeSpan.FromSeconds(1)));
        return builder;
    }

    public static IEndpointRouteBuilder MapFlashSales(this IEndpointRouteBuilder routes)
    {
        routes.MapFlashSaleEndpoints();
        return routes;
    }
}
