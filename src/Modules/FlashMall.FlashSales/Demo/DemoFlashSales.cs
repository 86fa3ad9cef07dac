using FlashMall.Contracts.Catalog;
using FlashMall.FlashSales.Domain;
using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.FlashSales.Demo;

/// <summary>
/// Keeps one live and one upcoming demo sale: whenever none is live or upcoming at start-up,
/// it creates a sale that started a minute ago (two hours long) and one that starts in an hour.
/// </summary>
internal sealed partial class DemoFlashSales(
    FlashSalesDbContext db, ICatalogStock catalog, IIdGenerator ids, IOptions<DemoOptions> options, IHostEnvironment environment,
    TimeProvider clock, ILogger<DemoFlashSales> logger) : IStartupTask
{
    public int Order => StartupTaskOrder.DemoFlashSales;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (!options.Value.ShouldSeed(environment) || await db.Sales.AnyAsync(s => s.EndsAt > now, cancellationToken))
        {
            return;
        }
        await CreateAsync(DemoSkus.Live, quantity: 100, perUserLimit: 1, now.AddMinutes(-1), now.AddHours(2), now, cancellationToken);
        await CreateAsync(DemoSkus.Upcoming, quantity: 200, perUserLimit: 2, now.AddHours(1), now.AddHours(3), now, cancellationToken);
    }

    private async Task CreateAsync(Guid skuId, int quantity, int perUserLimit, DateTimeOffset startsAt, DateTimeOffset endsAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await catalog.FindSkuAsync(skuId, cancellationToken) is not { } sku)
        {
            LogSkipped(logger, skuId);
            return;
        }
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await catalog.TryHoldBackAsync(skuId, quantity, transaction.GetDbTransaction(), cancellationToken))
        {
            LogSkipped(logger, skuId);
            return;
        }
        var salePrice = Math.Max(100, sku.Price / 2 / 100 * 100);
        var sale = SaleEvent.Create(ids.NewId(), sku.SkuId, sku.ProductId, sku.ProductName, salePrice, sku.Price, quantity, perUserLimit, startsAt, endsAt, now);
        db.Sales.Add(sale);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogSeeded(logger, sale.Id, startsAt);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded demo flash sale {SaleId} starting {StartsAt}")]
    private static partial void LogSeeded(ILogger logger, Guid saleId, DateTimeOffset startsAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo flash sale skipped: SKU {SkuId} missing or short of stock")]
    private static partial void LogSkipped(ILogger logger, Guid skuId);
}
