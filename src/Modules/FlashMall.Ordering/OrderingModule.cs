using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Scheduling;
using FlashMall.Ordering.Endpoints;
using FlashMall.Ordering.Persistence;
using FlashMall.Ordering.Workers;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlashMall.Ordering;

/// <summary>
/// Carts and orders. Today: the buyer's cart; flash-sale reservations become orders
/// (<see cref="ReservationOrderWorker"/>) and buyers read and cancel their own; checkout from the
/// cart, payment and the rest of the state machine come with the money-path issue.
/// </summary>
public static class OrderingModule
{
    public static IHostApplicationBuilder AddOrdering(this IHostApplicationBuilder builder)
    {
        builder.AddModuleDbContext<OrderingDbContext, OrderingSqliteDbContext, OrderingPostgresDbContext>(OrderingDbContext.Schema);
        builder.Services.AddOptions<OrderingOptions>().BindConfiguration(OrderingOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OrderingOptions>, OrderingOptionsValidator>();
        builder.Services.AddScoped<OrderCancellation>();
        builder.Services.AddScheduledJob<ExpireUnpaidOrdersJob>(ExpireUnpaidOrdersJob.Name,
            "Cancels unpaid orders past their payBefore; flash-sale units go back to their sale.", JobSchedule.Every(TimeSpan.FromSeconds(30)));
        if (NodeRoles.RunsBackgroundWork(builder.Configuration))
        {
            builder.Services.AddHostedService<ReservationOrderWorker>();
        }
        return builder;
    }

    public static IEndpointRouteBuilder MapOrdering(this IEndpointRouteBuilder routes)
    {
        routes.MapOrderEndpoints();
        routes.MapCartEndpoints();
        routes.MapCheckoutEndpoints();
        return routes;
    }
}
