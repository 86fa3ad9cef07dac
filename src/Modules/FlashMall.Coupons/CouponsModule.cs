using FlashMall.Coupons.Endpoints;
using FlashMall.Coupons.Persistence;
using FlashMall.Kernel.Persistence;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace FlashMall.Coupons;

/// <summary>
/// Coupons. Today: templates and claiming with exact limits, and a buyer's own coupons;
/// redemption at checkout and the abuse controls come with the rest of the money-path issue.
/// </summary>
public static class CouponsModule
{
    public static IHostApplicationBuilder AddCoupons(this IHostApplicationBuilder builder)
    {
        builder.AddModuleDbContext<CouponsDbContext, CouponsSqliteDbContext, CouponsPostgresDbContext>(CouponsDbContext.Schema);
        return builder;
    }

    public static IEndpointRouteBuilder MapCoupons(this IEndpointRouteBuilder routes)
    {
        routes.MapCouponEndpoints();
        return routes;
    }
}
