using FlashMall.Archive.Endpoints;
using FlashMall.Archive.Export;
using FlashMall.Archive.Persistence;
using FlashMall.Archive.Staging;
using FlashMall.Archive.Storage;
using FlashMall.Contracts.Coupons;
using FlashMall.Contracts.Ordering;
using FlashMall.Contracts.Search;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Scheduling;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlashMall.Archive;

/// <summary>
/// The business archive: the day's business events (orders, payments, flash-sale reservations,
/// coupon use, search queries) staged as they happen, written once a day (<c>archive.daily</c>) as
/// Hive-partitioned Parquet under <c>Data:Directory</c> or an S3-compatible bucket, and queried
/// by operators through named DuckDB reports. Schema and layout: docs/ARCHIVE.md.
/// </summary>
public static class ArchiveModule
{
    public static IHostApplicationBuilder AddArchive(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddModuleDbContext<ArchiveDbContext, ArchiveSqliteDbContext, ArchivePostgresDbContext>(ArchiveDbContext.Schema);
        services.AddOptions<ArchiveOptions>().BindConfiguration(ArchiveOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ArchiveOptions>, ArchiveOptionsDataValidator>();
        services.AddSingleton<IValidateOptions<ArchiveOptions>, ArchiveOptionsValidator>();

        if (builder.Configuration[$"{ArchiveOptions.SectionName}:{nameof(ArchiveOptions.Store)}"] == ArchiveStores.S3)
        {
            services.AddSingleton<IArchiveStore, S3ArchiveStore>();
        }
        else
        {
            services.AddSingleton<IArchiveStore, FileSystemArchiveStore>();
        }

        services.AddScoped<Stager>();
        services.AddIntegrationEventConsumer<ArchiveDbContext, OrderPlaced, StageOrderEvents>(StageOrderEvents.PlacedConsumer);
        services.AddIntegrationEventConsumer<ArchiveDbContext, OrderPaid, StageOrderEvents>(StageOrderEvents.PaidConsumer);
        services.AddIntegrationEventConsumer<ArchiveDbContext, OrderCancelled, StageOrderEvents>(StageOrderEvents.CancelledConsumer);
        services.AddIntegrationEventConsumer<ArchiveDbContext, OrderRefunded, StageOrderEvents>(StageOrderEvents.RefundedConsumer);
        services.AddIntegrationEventConsumer<ArchiveDbContext, CouponClaimed, StageCouponEvents>(StageCouponEvents.ClaimedConsumer);
        services.AddIntegrationEventConsumer<ArchiveDbContext, CouponRedeemed, StageCouponEvents>(StageCouponEvents.RedeemedConsumer);
        services.AddIntegrationEventConsumer<ArchiveDbContext, CouponReleased, StageCouponEvents>(StageCouponEvents.ReleasedConsumer);

        services.AddSingleton<SearchQueryLog>();
        services.AddSingleton<ISearchQueryLog>(sp => sp.GetRequiredService<SearchQueryLog>());
        services.AddHostedService(sp => sp.GetRequiredService<SearchQueryLog>());

        services.AddScoped<ArchiveExporter>();
        services.AddScoped<ArchiveReports>();
        services.AddScheduledJob<ArchiveDailyJob>(ArchiveDailyJob.Name,
            "Writes yesterday's business events (and late ones of earlier days) as Parquet under archive/<event>/dt=YYYY-MM-DD/; deletes staged rows older than Archive:StagingRetention.",
            JobSchedule.AtCron("0 10 0 * * ?"));
        return builder;
    }

    public static IEndpointRouteBuilder MapArchive(this IEndpointRouteBuilder routes)
    {
        routes.MapArchiveEndpoints();
        return routes;
    }
}
