using System.Data.Common;
using System.Diagnostics;
using FlashMall.Contracts.FlashSales;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Observability;
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
    IServiceScopeFactory scopes, IOptions<OrderingOptions> options, PeakShaving peak, TimeProvider clock, OrderingTelemetry telemetry,
    ILogger<ReservationOrderWorker> logger)
    : BackgroundService
{
    public const int BatchSize = 100;

    /// <summary>On a thread of its own (<see cref="DedicatedThread"/>): SQLite's writes would block a thread-pool thread.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => DedicatedThread.Start("Reservation order worker", Run, stoppingToken);

    private void Run(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var full = false;
            var admissions = peak.Admissions;
            var started = clock.GetTimestamp();
            try
            {
                full = OrderBatchAsync(stoppingToken).GetAwaiter().GetResult() == BatchSize;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, ex);
            }
            // While this node admits purchases, orders take a tenth of the worker's time (a full
            // batch is followed by a rest nine times as long, PeakShaving): purchases, the core
            // path, are never starved by their own orders. When the rush ends they catch up at half
            // of it (a rest as long as the batch): the batch holds SQLite's one write lock, which
            // checkouts and payments need too. A batch that was not full found them all: wait for more.
            var pause = full
                ? peak.PauseAfter(clock.GetElapsedTime(started), admissions, maxShare: PeakShaving.SqliteWriterShare)
                : options.Value.ReservationPollInterval;
            if (pause > TimeSpan.Zero)
            {
                Task.Delay(pause, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing).GetAwaiter().GetResult();
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
        var reservationIds = pending.Select(r => r.ReservationId).ToList();
        var existing = (await db.Orders.AsNoTracking().Where(o => EF.Parameter(reservationIds).Contains(o.Id)).Select(o => o.Id).ToListAsync(cancellationToken)).ToHashSet();
        var now = clock.GetUtcNow();
        var startedAt = DateTime.UtcNow;
        var orders = pending.Where(r => !existing.Contains(r.ReservationId))
            .Select(r => Order.FromReservation(r.ReservationId, r.SaleId, r.UserId, r.SkuId, r.ProductId, r.ProductName, r.SalePrice, r.Quantity,
                now + options.Value.PaymentWindow, now))
            .ToList();
        try
        {
            // Multi-row inserts, not the change tracker: the batch holds SQLite's write lock for
            // a few milliseconds, not the tens that stalled the reservation writer behind it.
            using var turn = await SqliteWriteGate.EnterAsync(db, cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await BulkInsert.InsertAsync(db, orders, cancellationToken);
            await BulkInsert.InsertOwnedAsync(db, [.. orders.SelectMany(o => o.Lines.Select(l => (o, l)))], cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbException ex) when (ex.IsUniqueViolation())
        {
            // Another worker ordered some of them first: the next pass finds those orders.
            LogRaced(logger);
            return pending.Count;
        }
        await reservations.MarkOrderedAsync(reservationIds, cancellationToken);
        Record(pending, existing, now, startedAt);
        LogOrdered(logger, orders.Count, existing.Count);
        return pending.Count;
    }

    /// <summary>
    /// Business metrics for the orders this batch placed, and a span per order in its purchase's
    /// trace (the reservation kept the purchase's traceparent), covering the batch that wrote it.
    /// </summary>
    private void Record(IReadOnlyList<ReservationToOrder> pending, HashSet<Guid> existing, DateTimeOffset now, DateTime startedAt)
    {
        var tracing = OrderingTelemetry.Source.HasListeners();
        foreach (var reservation in pending)
        {
            if (existing.Contains(reservation.ReservationId))
            {
                continue;
            }
            telemetry.Placed(OrderingTelemetry.FlashSale, reservation.SalePrice * reservation.Quantity);
            telemetry.ReservationToOrder(now - reservation.ReservedAt);
            if (tracing && Telemetry.ParentFrom(reservation.TraceParent) is { TraceId: var traceId } parent && traceId != default)
            {
                using var span = OrderingTelemetry.Source.StartActivity("ordering.order_from_reservation", ActivityKind.Consumer, parent, startTime: startedAt);
                span?.SetTag("flashmall.order.id", reservation.ReservationId.ToString());
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Turning reservations into orders failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Another worker ordered some of these reservations first; looking again")]
    private static partial void LogRaced(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Placed {Placed} orders from reservations ({Existing} already had one)")]
    private static partial void LogOrdered(ILogger logger, int placed, int existing);
}
