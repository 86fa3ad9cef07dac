using FlashMall.Contracts.FlashSales;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Persistence;
using FlashMall.Ordering.Domain;
using FlashMall.Ordering.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Ordering.Workers;

/// <summary>
/// Turns flash-sale reservations into orders (on <c>all</c>/<c>worker</c> nodes): reads the
/// reservations not yet ordered, writes an order for each — at most one per reservation, by a
/// unique key, so a restart, a second worker or a retry never makes two — then reports them
/// back as ordered. A crash between the two steps leaves the reservation to be looked at again,
/// and its existing order is found and reported.
/// </summary>
internal sealed partial class ReservationOrderWorker(
    IServiceScopeFactory scopes, IIdGenerator ids, IOptions<OrderingOptions> options, TimeProvider clock, ILogger<ReservationOrderWorker> logger)
    : BackgroundService
{
    public const int BatchSize = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var full = false;
            try
            {
                full = await OrderBatchAsync(stoppingToken) == BatchSize;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, ex);
            }
            if (!full)
            {
                await Task.Delay(options.Value.ReservationPollInterval, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Orders one batch of reservations; how many there were.</summary>
    internal async Task<int> OrderBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var reservations = scope.ServiceProvider.GetRequiredService<IFlashSaleReservations>();
        var db = scope.ServiceProvider.GetRequiredService<OrderingDbContext>();
        var pending = await reservations.ToOrderAsync(BatchSize, cancellationToken);
        if (pending.Count == 0)
        {
            return 0;
        }
        var reservationIds = pending.Select(r => (Guid?)r.ReservationId).ToList();
        var existing = await db.Orders.AsNoTracking()
            .Where(o => reservationIds.Contains(o.ReservationId))
            .Select(o => new { ReservationId = o.ReservationId!.Value, o.Id })
            .ToDictionaryAsync(o => o.ReservationId, o => o.Id, cancellationToken);
        var now = clock.GetUtcNow();
        var placed = new Dictionary<Guid, Guid>(existing);
        foreach (var reservation in pending.Where(r => !existing.ContainsKey(r.ReservationId)))
        {
            var order = Order.FromReservation(ids.NewId(), reservation.ReservationId, reservation.SaleId, reservation.UserId, reservation.SkuId,
                reservation.ProductId, reservation.ProductName, reservation.SalePrice, reservation.Quantity, now + options.Value.PaymentWindow, now);
            db.Orders.Add(order);
            placed[reservation.ReservationId] = order.Id;
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Another worker ordered some of them first: the next pass finds those orders.
            LogRaced(logger);
            return pending.Count;
        }
        await reservations.MarkOrderedAsync([.. placed.Select(p => (p.Key, p.Value))], cancellationToken);
        LogOrdered(logger, placed.Count - existing.Count, existing.Count);
        return pending.Count;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Turning reservations into orders failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Another worker ordered some of these reservations first; looking again")]
    private static partial void LogRaced(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Placed {Placed} orders from reservations ({Existing} already had one)")]
    private static partial void LogOrdered(ILogger logger, int placed, int existing);
}
