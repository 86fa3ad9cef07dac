using FlashMall.Catalog.Demo;
using FlashMall.Catalog.Endpoints;
using FlashMall.Catalog.Persistence;
using FlashMall.Catalog.Stock;
using FlashMall.Contracts.Catalog;
using FlashMall.Contracts.Ordering;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlashMall.Catalog;

/// <summary>Categories, products, SKUs, prices and regular stock.</summary>
public static class CatalogModule
{
    public static IHostApplicationBuilder AddCatalog(this IHostApplicationBuilder builder)
    {
        builder.AddModuleDbContext<CatalogDbContext, CatalogSqliteDbContext, CatalogPostgresDbContext>(CatalogDbContext.Schema);
        builder.Services.AddScoped<CatalogCache>();
        builder.Services.AddScoped<ICatalogStock, CatalogStock>();
        builder.Services.AddScoped<CatalogSearchSource>();
        builder.Services.AddScoped<ICatalogSearchSource>(sp => sp.GetRequiredService<CatalogSearchSource>());
        builder.Services.AddScoped<ICatalogProductSearch>(sp => sp.GetRequiredService<CatalogSearchSource>());
        builder.Services.AddScoped<ICatalogProducts, CatalogProducts>();
        builder.Services.AddIntegrationEventConsumer<CatalogDbContext, OrderCancelled, RestockOnOrderCancelled>(RestockOnOrderCancelled.Consumer);
        builder.Services.AddIntegrationEventConsumer<CatalogDbContext, OrderPlaced, RefreshOnOrderPlaced>(RefreshOnOrderPlaced.Consumer);
        builder.Services.AddIntegrationEventConsumer<CatalogDbContext, OrderRefunded, RestockOnOrderRefunded>(RestockOnOrderRefunded.Consumer);
        builder.Services.AddIntegrationEventConsumer<CatalogDbContext, OrderPaid, CountSalesOnOrderPaid>(CountSalesOnOrderPaid.PaidConsumer);
        builder.Services.AddIntegrationEventConsumer<CatalogDbContext, OrderRefunded, CountSalesOnOrderPaid>(CountSalesOnOrderPaid.RefundedConsumer);
        builder.Services.AddStartupTask<DemoCatalog>();
        return builder;
    }

    public static IEndpointRouteBuilder MapCatalog(this IEndpointRouteBuilder routes)
    {
        routes.MapCatalogEndpoints();
        routes.MapAdminProductEndpoints();
        return routes;
    }
}
