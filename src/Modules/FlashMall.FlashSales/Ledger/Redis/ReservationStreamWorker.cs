using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashMall.FlashSales.Ledger.Redis;

/// <summary>
/// On nodes that run background work: reads the stream of every sale that is live, about to
/// start or ended within the last hour, writes its reservations to the database, and claims
/// entries a dead node left pending. Sleeps <c>FlashSales:Redis:PollInterval</c> only when
/// every stream was empty; while this node admits purchases, rests after each round so that it
/// takes a tenth of its time (<see cref="PeakShaving"/>: the entries wait in Redis, the buyers get
/// the cores), and reads flat out once they stop.
/// </summary>
internal sealed partial class ReservationStreamWorker(
    ReservationStream stream, RedisLedgerKeys keys, SaleDirectory directory, IServiceScopeFactory scopes, IOptions<RedisLedgerOptions> options,
    PeakShaving peak, TimeProvider clock, ILogger<ReservationStreamWorker> logger) : BackgroundService
{
    private static readonly TimeSpan SalesRefresh = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sales = new List<(SaleTerms Terms, SaleKeys Keys)>();
        var refreshedAt = DateTimeOffset.MinValue;
        var reclaimedAt = DateTimeOffset.MinValue;
        var failed = new HashSet<Guid>();
        while (!stoppingToken.IsCancellationRequested)
        {
            var busy = false;
            var admissions = peak.Admissions;
            var started = clock.GetTimestamp();
            try
            {
                var now = clock.GetUtcNow();
                if (now - refreshedAt >= SalesRefresh)
                {
                    sales = await SalesAsync(now, stoppingToken);
                    refreshedAt = now;
                }
                var reclaim = now - reclaimedAt >= options.Value.ReclaimAfter / 2;
                foreach (var (terms, saleKeys) in sales)
                {
                    try
                    {
                        busy |= await stream.ReadAsync(terms, saleKeys, ownPendingFirst: failed.Remove(terms.SaleId)) > 0;
                        if (reclaim)
                        {
                            busy |= await stream.ReclaimAsync(terms, saleKeys, options.Value.ReclaimAfter) > 0;
                        }
                    }
                    catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
                    {
                        // Not loaded in Redis yet (or lost and being rebuilt): nothing to read.
                    }
                    catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                    {
                        failed.Add(terms.SaleId);
                        LogFailed(logger, ex, terms.SaleId);
                    }
                }
                if (reclaim)
                {
                    reclaimedAt = now;
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, ex, Guid.Empty);
            }
            var pause = busy ? peak.PauseAfter(clock.GetElapsedTime(started), admissions) : options.Value.PollInterval;
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task<List<(SaleTerms, SaleKeys)>> SalesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        List<Guid> ids;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var until = now + WarmUpcomingSalesJob.Ahead;
            var since = now - WarmUpcomingSalesJob.KeepAfterEnd;
            ids = await scope.ServiceProvider.GetRequiredService<FlashSalesDbContext>().Sales.AsNoTracking()
                .Where(s => s.StartsAt <= until && s.EndsAt > since).Select(s => s.Id).ToListAsync(cancellationToken);
        }
        var sales = new List<(SaleTerms, SaleKeys)>(ids.Count);
        foreach (var id in ids)
        {
            if (await directory.FindAsync(id, cancellationToken) is { } terms)
            {
                sales.Add((terms, keys.For(id)));
            }
        }
        return sales;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing the admitted reservations of flash sale {SaleId} failed; they stay in the stream and are read again")]
    private static partial void LogFailed(ILogger logger, Exception exception, Guid saleId);
}
