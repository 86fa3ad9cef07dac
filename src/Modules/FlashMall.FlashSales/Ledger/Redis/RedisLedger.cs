using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Observability;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlashMall.FlashSales.Ledger.Redis;

/// <summary>Where the Redis ledger's keys live: <c>Cache:KeyPrefix</c> + <c>{sale:ID}:…</c>.</summary>
internal sealed record RedisLedgerKeys(string Prefix)
{
    public SaleKeys For(Guid saleId) => new(Prefix, saleId);
}

/// <summary>
/// The Redis ledger: Redis is the admission gate, the database the source of truth. A Lua
/// script checks the epoch, the window, the stock and the buyer's limit, takes the units and
/// appends the reservation to the sale's stream, atomically (for a batch of the node's concurrent
/// purchases at once: <see cref="ReserveBatcher"/>); the buyer hears
/// "reserved" then, and <see cref="ReservationStream"/> writes it to the database, which decides
/// for good (a refusal there becomes a <c>gate_false_positive</c> release). Each sale carries an
/// epoch: when Redis has lost the sale's keys (a restart without persistence, a failover to a
/// replica that never had them) the script says so, admission pauses (<c>ledger_recovering</c>),
/// one node rebuilds the keys from the database and selling resumes under a new epoch.
/// A sold-out sale is remembered in-process for a second, so it costs no Redis call.
/// </summary>
internal sealed partial class RedisLedger(
    IConnectionMultiplexer redis, RedisLedgerKeys keys, ReservationStream stream, SaleDirectory directory, IServiceScopeFactory scopes,
    PeakShaving peak, TimeProvider clock, IHostApplicationLifetime lifetime, IMeterFactory meters, ILogger<RedisLedger> logger) : IStockLedger
{
    public static readonly TimeSpan SoldOutFlagTime = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RebuildLockTime = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan KeepAfterEnd = TimeSpan.FromDays(1);

    private readonly ConcurrentDictionary<Guid, SaleState> _sales = new();
    private readonly Counter<long> _rebuilds = meters.Create(SaleReconciler.MeterName).CreateCounter<long>(
        "flashmall.flash_sales.ledger.rebuilds", description: "Sales whose Redis keys were rebuilt from the database.");
    private (DateTimeOffset At, Guid[] Sales) _recent = (DateTimeOffset.MinValue, []);

    public IReadOnlyCollection<Guid> LoadedSales => [.. _sales.Keys];

    public void Forget(Guid saleId) => _sales.TryRemove(saleId, out _);

    /// <summary>Loads the sale, or checks that Redis still has the epoch this node holds (else recovers it).</summary>
    public async Task WarmAsync(SaleTerms sale, CancellationToken cancellationToken)
    {
        var state = State(sale);
        if (state.Epoch is { } epoch && await redis.GetDatabase().HashGetAsync(state.Keys.Meta, "epoch") != epoch)
        {
            state.Lost(epoch);
        }
        await state.LoadAsync(this).WaitAsync(cancellationToken);
    }

    public async ValueTask<ReserveOutcome> ReserveAsync(SaleTerms sale, Guid userId, int quantity, Guid reservationId, bool keyed, CancellationToken cancellationToken)
    {
        var state = State(sale);
        if (await EpochAsync(state, cancellationToken) is not { } epoch)
        {
            return ReserveOutcome.Recovering;
        }
        if (!keyed && state.SoldOutUntil > clock.GetTimestamp())
        {
            return ReserveOutcome.SoldOut; // no Redis call (a keyed request may be a retry: the script looks)
        }
        var code = await state.Batcher.ReserveAsync(epoch, userId, quantity, reservationId, keyed, Telemetry.TraceParentOf(Activity.Current));
        switch (code)
        {
            case RedisLedgerScripts.Reserved:
                peak.Admitted(1);
                return ReserveOutcome.Reserved;
            case RedisLedgerScripts.Replayed:
                return ReserveOutcome.Replayed;
            case RedisLedgerScripts.KeyReused:
                return ReserveOutcome.KeyReused;
            case RedisLedgerScripts.SoldOut:
                state.SoldOutUntil = clock.GetTimestamp() + (long)(SoldOutFlagTime.TotalSeconds * clock.TimestampFrequency);
                return ReserveOutcome.SoldOut;
            case RedisLedgerScripts.LimitReached:
                return ReserveOutcome.LimitReached;
            case RedisLedgerScripts.NotStarted:
                return ReserveOutcome.NotStarted;
            case RedisLedgerScripts.Ended:
                return ReserveOutcome.Ended;
            case RedisLedgerScripts.EpochChanged:
                state.Lost(epoch);
                _ = state.LoadAsync(this);
                return ReserveOutcome.Recovering;
            default:
                throw new InvalidOperationException($"The reserve script refused its arguments ({code}).");
        }
    }

    public async ValueTask<ReserveOutcome?> FindEarlierAsync(SaleTerms sale, Guid userId, int quantity, Guid reservationId, CancellationToken cancellationToken)
    {
        var state = State(sale);
        var now = clock.GetUtcNow();
        if (now >= sale.StartsAt && now < sale.EndsAt)
        {
            return null; // the reserve script replays it in the same call (keyed requests always reach it)
        }
        if (await EpochAsync(state, cancellationToken) is null)
        {
            return ReserveOutcome.Recovering;
        }
        var earlier = await redis.GetDatabase().HashGetAsync(state.Keys.Reservations, reservationId.ToString("N"));
        if (earlier.IsNull)
        {
            return null;
        }
        return Parse(earlier) is { } held && held.UserId == userId && held.Quantity == quantity ? ReserveOutcome.Replayed : ReserveOutcome.KeyReused;
    }

    public async ValueTask<LedgerCount?> CountAsync(Guid saleId, CancellationToken cancellationToken)
    {
        var sale = keys.For(saleId);
        var result = await redis.GetDatabase().ScriptEvaluateAsync(RedisLedgerScripts.Count, [sale.Meta, sale.Stream]);
        return result.IsNull ? null : new LedgerCount((int)result[0], (int)result[1]);
    }

    public async ValueTask<int?> RemainingAsync(Guid saleId, CancellationToken cancellationToken)
    {
        try
        {
            var stock = await redis.GetDatabase().HashGetAsync(keys.For(saleId).Meta, "stock");
            return stock.IsNull ? null : (int)stock;
        }
        catch (RedisException)
        {
            return null; // the view falls back to the database's count
        }
    }

    public async ValueTask<bool> IsAdmittedAsync(Guid reservationId, Guid userId, CancellationToken cancellationToken)
    {
        var id = reservationId.ToString("N");
        var database = redis.GetDatabase();
        var found = await Task.WhenAll((await RecentSalesAsync(cancellationToken)).Select(s => database.HashGetAsync(keys.For(s).Reservations, id)));
        return found.Any(v => !v.IsNull && Parse(v) is { } held && held.UserId == userId);
    }

    public async Task ReleaseAsync(FlashSalesDbContext db, ReleasedUnits released, CancellationToken cancellationToken)
    {
        var sale = keys.For(released.SaleId);
        var code = (int)await redis.GetDatabase().ScriptEvaluateAsync(RedisLedgerScripts.Release,
            [sale.Meta, sale.Buyers, sale.Reservations], [released.ReservationId.ToString("N")]);
        if (code == RedisLedgerScripts.EpochChanged)
        {
            // Lost or being rebuilt: a snapshot may not see this release yet. Start the recovery
            // (nobody may be buying to notice), roll back, and come again once it is done.
            if (await directory.FindAsync(released.SaleId, cancellationToken) is { } terms)
            {
                var lost = State(terms);
                if (lost.Epoch is { } epoch)
                {
                    lost.Lost(epoch);
                }
                _ = lost.LoadAsync(this);
            }
            throw new LedgerRecoveringException(released.SaleId);
        }
        if (code == RedisLedgerScripts.Unknown)
        {
            await stream.ResyncAsync(released.SaleId, sale, $"reservation {released.ReservationId} was released in the database but Redis did not hold it");
        }
        if (_sales.TryGetValue(released.SaleId, out var known))
        {
            known.SoldOutUntil = 0;
        }
    }

    /// <summary>The node's epoch for the sale: loads it on first use (waiting), or null while it is being recovered.</summary>
    private async ValueTask<string?> EpochAsync(SaleState state, CancellationToken cancellationToken)
    {
        if (state.Epoch is { } epoch)
        {
            return epoch;
        }
        var loading = state.LoadAsync(this);
        if (state.EverLoaded && !loading.IsCompleted)
        {
            return null; // lost and being rebuilt: admission pauses
        }
        await loading.WaitAsync(cancellationToken);
        return state.Epoch;
    }

    private SaleState State(SaleTerms sale) => _sales.GetOrAdd(sale.SaleId, _ =>
    {
        var saleKeys = keys.For(sale.SaleId);
        return new SaleState(sale, saleKeys, new ReserveBatcher(redis, saleKeys, clock));
    });

    /// <summary>
    /// Adopts the sale's epoch from Redis; when there is none, one node (the holder of the rebuild
    /// lock) rebuilds the keys from the database and the others wait for the new epoch.
    /// </summary>
    private async Task LoadEpochAsync(SaleState state)
    {
        var database = redis.GetDatabase();
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            lifetime.ApplicationStopping.ThrowIfCancellationRequested();
            try
            {
                var epoch = await database.HashGetAsync(state.Keys.Meta, "epoch");
                if (epoch.HasValue)
                {
                    state.Epoch = epoch.ToString();
                    return;
                }
                var token = Guid.NewGuid().ToString("N");
                if (await database.LockTakeAsync(state.Keys.RebuildLock, token, RebuildLockTime))
                {
                    try
                    {
                        // Another node may have rebuilt it between the look above and the lock.
                        if (!(await database.HashGetAsync(state.Keys.Meta, "epoch")).HasValue)
                        {
                            await RebuildAsync(state, token);
                        }
                    }
                    finally
                    {
                        await database.LockReleaseAsync(state.Keys.RebuildLock, token);
                    }
                    continue;
                }
            }
            catch (Exception ex) when (!lifetime.ApplicationStopping.IsCancellationRequested)
            {
                LogLoadFailed(logger, ex, state.Terms.SaleId);
            }
            await Task.Delay(delay, clock, lifetime.ApplicationStopping);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
        }
    }

    /// <summary>
    /// Writes what the stream still holds to the database, reads the database in one snapshot,
    /// and writes the buyers, the reservations (released ones too, so a retry of one finds it) and
    /// finally the meta hash with a new epoch. Until that last step every script finds no epoch
    /// and admission stays paused on every node. Every write is fenced: it happens only while this
    /// node holds the rebuild lock (each write extends it) and the sale still has no epoch, so a
    /// node that lost the lock or the race never overwrites a sale that is selling again.
    /// </summary>
    private async Task RebuildAsync(SaleState state, string token)
    {
        var started = Stopwatch.GetTimestamp();
        var sale = state.Terms;
        var written = await stream.DrainAsync(sale, state.Keys, lifetime.ApplicationStopping);
        LedgerSnapshot snapshot;
        await using (var scope = scopes.CreateAsyncScope())
        {
            snapshot = await LedgerSnapshot.ReadAsync(scope.ServiceProvider.GetRequiredService<FlashSalesDbContext>(), sale, includeReleased: true, lifetime.ApplicationStopping);
        }
        var database = redis.GetDatabase();
        RedisKey[] fence = [state.Keys.RebuildLock, state.Keys.Meta];
        async Task<bool> FencedAsync(string script, RedisKey[] keys, RedisValue[] values) =>
            (int)await database.ScriptEvaluateAsync(script, [.. fence, .. keys], [token, .. values]) == 1;

        if (!await FencedAsync(RedisLedgerScripts.FencedDelete, [state.Keys.Buyers, state.Keys.Reservations], []))
        {
            return;
        }
        var buyers = snapshot.Reservations.Where(r => !r.Released).GroupBy(r => r.UserId)
            .Select(g => new[] { (RedisValue)g.Key.ToString("N"), g.Sum(r => r.Quantity) }).ToList();
        foreach (var chunk in buyers.Chunk(1_000))
        {
            if (!await FencedAsync(RedisLedgerScripts.FencedHashSet, [state.Keys.Buyers], [.. chunk.SelectMany(pair => pair)]))
            {
                return;
            }
        }
        foreach (var chunk in snapshot.Reservations.Chunk(1_000))
        {
            RedisValue[] pairs = [.. chunk.SelectMany(r => new RedisValue[] { r.Id.ToString("N"), $"{r.UserId:N}:{r.Quantity}{(r.Released ? ":x" : "")}" })];
            if (!await FencedAsync(RedisLedgerScripts.FencedHashSet, [state.Keys.Reservations], pairs))
            {
                return;
            }
        }
        var now = clock.GetUtcNow();
        var expireAt = new[] { sale.EndsAt + KeepAfterEnd, now.AddHours(1) }.Max();
        var epoch = Guid.NewGuid().ToString("N");
        var opened = (int)await database.ScriptEvaluateAsync(RedisLedgerScripts.Open, [.. state.Keys.All, state.Keys.RebuildLock],
        [
            snapshot.Free, sale.PerUserLimit, sale.StartsAt.ToUnixTimeMilliseconds(), sale.EndsAt.ToUnixTimeMilliseconds(),
            epoch, expireAt.ToUnixTimeMilliseconds(), ReservationStream.Group, token,
        ]);
        if (opened != 1)
        {
            return;
        }
        _rebuilds.Add(1);
        LogRebuilt(logger, sale.SaleId, snapshot.Free, snapshot.Reservations.Count, written, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task<Guid[]> RecentSalesAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var recent = _recent;
        if (now - recent.At < TimeSpan.FromSeconds(1))
        {
            return recent.Sales;
        }
        await using var scope = scopes.CreateAsyncScope();
        var since = now - KeepAfterEnd;
        var sales = await scope.ServiceProvider.GetRequiredService<FlashSalesDbContext>().Sales.AsNoTracking()
            .Where(s => s.StartsAt <= now && s.EndsAt > since).Select(s => s.Id).ToArrayAsync(cancellationToken);
        _recent = (now, sales);
        return sales;
    }

    private static (Guid UserId, int Quantity)? Parse(RedisValue held)
    {
        var text = held.ToString().AsSpan();
        return text.Length > 33 && text[32] == ':' && Guid.TryParseExact(text[..32], "N", out var user)
            && int.TryParse(text[33..].TrimEnd(":x"), out var quantity)
            ? (user, quantity)
            : null;
    }

    /// <summary>This node's view of one sale in the Redis ledger.</summary>
    private sealed class SaleState(SaleTerms terms, SaleKeys keys, ReserveBatcher batcher)
    {
        private readonly Lock _gate = new();
        private Task? _loading;

        public SaleTerms Terms { get; } = terms;
        public SaleKeys Keys { get; } = keys;

        /// <summary>Groups this node's concurrent purchases of the sale into script calls.</summary>
        public ReserveBatcher Batcher { get; } = batcher;

        /// <summary>The epoch this node last saw; null before the first load and while recovering.</summary>
        public volatile string? Epoch;

        public bool EverLoaded;

        /// <summary>A timestamp (<see cref="TimeProvider.GetTimestamp"/>) before which the sale is known sold out.</summary>
        public long SoldOutUntil;

        public Task LoadAsync(RedisLedger ledger)
        {
            lock (_gate)
            {
                if (_loading is null || _loading.IsFaulted || _loading.IsCanceled || (_loading.IsCompleted && Epoch is null))
                {
                    _loading = Run(ledger);
                }
                return _loading;
            }
        }

        private async Task Run(RedisLedger ledger)
        {
            await Task.Yield();
            await ledger.LoadEpochAsync(this);
            EverLoaded = true;
        }

        /// <summary>Redis no longer knows <paramref name="epoch"/>: forget it (unless a newer one was adopted meanwhile).</summary>
        public void Lost(string epoch)
        {
            lock (_gate)
            {
                if (Epoch == epoch)
                {
                    Epoch = null;
                    SoldOutUntil = 0;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loading flash sale {SaleId} into the Redis ledger failed; retrying")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, Guid saleId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Flash sale {SaleId} rebuilt in Redis from the database: {Free} units free, {Reservations} reservations, {Drained} written from the stream first, in {Milliseconds:F0} ms")]
    private static partial void LogRebuilt(ILogger logger, Guid saleId, int free, int reservations, int drained, double milliseconds);
}

/// <summary>The sale is being rebuilt in Redis; the operation is retried after.</summary>
internal sealed class LedgerRecoveringException(Guid saleId)
    : Exception($"Flash sale {saleId} is being rebuilt in the Redis ledger; retry shortly.");
