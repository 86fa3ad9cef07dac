using FlashMall.Coupons.Endpoints;
using FlashMall.Coupons.Persistence;
using FlashMall.Contracts.Coupons;
using FlashMall.Contracts.Ordering;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace FlashMall.Coupons;

/// <summary>
/// Coupons: templates, claiming with exact limits, a buyer's own coupons, redemption in the
/// checkout's transaction and release when the order is cancelled; claims ask the Risk module's
/// abuse rules first (<c>IRiskGate</c>), and claims, redemptions and releases publish events.
/// </summary>
public static class CouponsModule
{
    public static IHostApplicationBuilder AddCoupons(this IHostApplicationBuilder builder)
    {
        builder.AddModuleDbContext<CouponsDbContext, CouponsSqliteDbContext, CouponsPostgresDbContext>(CouponsDbContext.Schema);
        builder.Services.AddScoped<ICouponRedemption, CouponRedemption>();
        builder.Services.AddIntegrationEventConsumer<CouponsDbContext, OrderCancelled, ReleaseCouponOnOrderCancelled>(ReleaseCouponOnOrderCancelled.Consumer);
        return builder;
    }

    public static IEndpointRouteBuilder MapCoupons(this IEndpointRouteBuilder routes)
    {
        routes.MapCouponEndpoints();
        return routes;
    }
}
