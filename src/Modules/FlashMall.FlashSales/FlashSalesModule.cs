using FlashMall.FlashSales.Demo;
using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.Hosting;

namespace FlashMall.FlashSales;

/// <summary>
/// Sale events and (with the flash-sale issue) the stock ledger and purchase path. For now it
/// owns the sale table and keeps demo sales seeded for the engine to read; it maps no endpoints yet.
/// </summary>
public static class FlashSalesModule
{
    public static IHostApplicationBuilder AddFlashSales(this IHostApplicationBuilder builder)
    {
        builder.AddModuleDbContext<FlashSalesDbContext, FlashSalesSqliteDbContext, FlashSalesPostgresDbContext>(FlashSalesDbContext.Schema);
        builder.Services.AddStartupTask<DemoFlashSales>();
        return builder;
    }
}
