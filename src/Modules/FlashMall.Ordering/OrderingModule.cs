using FlashMall.Contracts.Ordering;
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
/// Carts and orders: the buyer's cart, checkout, flash-sale reservations made orders
/// (<see cref="ReservationOrderWorker"/>), and the order state machine
/// (<c>pending_payment → paid → shipped → completed</c>, <c>pending_payment → cancelled</c>,
/// <c>paid → refunded</c>); Payments drives paid and refunded through <see cref="IOrderPayments"/>.
/// </summary>
public static class OrderingModule
{
    public static IHostApplicationBuilder AddOrdering(this IHostApplicationBuilder builder)
    {
        builder.AddModuleDbContext<OrderingDbContext, OrderingSqliteDbContext, OrderingPostgresDbContext>(OrderingDbContext.Schema);
        builder.Services.AddOptions<OrderingOptions>().BindConfiguration(OrderingOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OrderingOptions>, OrderingOptionsValidator>();
        builder.Services.AddScoped<OrderCancellation>();
        builder.Services.AddSingleton<OrderingTelemetry>();
        builder.Services.AddScoped<IOrderPayments, OrderPayments>();
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
