using FlashMall.Kernel.Caching;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Scheduling;
using Microsoft.Extensions.Options;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Problems;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FlashMall.Kernel.Hosting;

public static class KernelRegistration
{
    /// <summary>The cross-cutting services every module relies on.</summary>
    public static IHostApplicationBuilder AddKernel(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<IIdGenerator, TimeOrderedIdGenerator>();
        builder.Services.TryAddSingleton<PeakShaving>(); // the writers behind a purchase's answer yield to a rush
        builder.Services.AddOptions<DemoOptions>().BindConfiguration(DemoOptions.SectionName);
        builder.Services.AddHostedService<StartupTaskRunner>();
        builder.AddProblemResponses();
        builder.AddDatabase();
        builder.AddTwoTierCache();
        builder.AddRequestRateLimiting();
        builder.Services.AddRequestRateLimits(); // per user, device and IP over every API endpoint
        builder.Services.AddLoadShedding();      // concurrency limits per traffic class
        builder.Services.AddSignedRequests();    // Security:RequireSignedRequests

        builder.Services.AddOptions<IdempotencyOptions>().BindConfiguration(IdempotencyOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IdempotencyOptions>, IdempotencyOptionsValidator>();
        builder.Services.AddScheduledJob<PurgeIdempotencyRecordsJob>(PurgeIdempotencyRecordsJob.Name,
            "Deletes Idempotency-Key answers older than Idempotency:Retention in every module.", JobSchedule.Every(TimeSpan.FromHours(1)));

        builder.Services.AddOptions<MessagingOptions>().BindConfiguration(MessagingOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MessagingOptions>, MessagingOptionsValidator>();
        builder.Services.AddScheduledJob<PurgeDeliveredMessagesJob>(PurgeDeliveredMessagesJob.Name,
            "Deletes delivered outbox messages (not dead letters) and processed-message records older than 7 days and than the oldest dead letter.", JobSchedule.AtCron("0 47 3 * * ?"));
        builder.Services.AddSingleton<IntegrationEventDispatcher>();
        builder.Services.AddSingleton<OutboxStore>();
        // The RabbitMQ adapter registers its own transport first when Messaging:Transport=RabbitMq.
        builder.Services.TryAddSingleton<IOutboxTransport, InProcessTransport>();
        if (NodeRoles.RunsBackgroundWork(builder.Configuration))
        {
            builder.Services.AddHostedService<OutboxRelay>();
        }
        builder.Services.AddSingleton<Observability.OutboxBacklogSampler>();
        builder.Services.AddHostedService(services => services.GetRequiredService<Observability.OutboxBacklogSampler>());
        return builder;
    }
}
