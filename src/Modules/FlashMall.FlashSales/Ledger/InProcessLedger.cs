using System.Collections.Concurrent;
using System.Diagnostics;
using FlashMall.FlashSales.Ledger.Journal;
using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Observability;
using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlashMall.FlashSales.Ledger;

/// <summary>
/// The embedded ledger, for a single node: per sale a lock-free counter of free units and, per
/// buyer, a small record of units and reservations under that buyer's own lock (buyers never
/// contend with each other). A purchase takes its units from the counters, then waits for its
/// record to be on disk in the <see cref="ReservationJournal"/> (group commit: one synchronous
/// write for all that arrived meanwhile), and only then answers; if the append fails, the units
/// go back. The database rows are written behind (<see cref="JournalDrain"/>). After a restart
/// the journal is written to the database first and the counters are rebuilt from it, so an
/// answered reservation is never lost and never sold twice.
/// </summary>
internal sealed class InProcessLedger(IServiceScopeFactory scopes, ReservationJournal journal, TimeProvider clock, IOptions<FlashSalesOptions> options)
    : IStockLedger
{
    private readonly ConcurrentDictionary<Guid, Lazy<Task<SaleCounters>>> _sales = new();

    public ValueTask<LedgerCount?> CountAsync(Guid saleId, CancellationToken cancellationToken) =>
        ValueTask.FromResult<LedgerCount?>(
            _sales.TryGetValue(saleId, out var loading) && loading.IsValueCreated && loading.Value.IsCompletedSuccessfully
                ? new LedgerCount(loading.Value.Result.Remaining, journal.InFlight(saleId))
                : null);

    public async ValueTask<int?> RemainingAsync(Guid saleId, CancellationToken cancellationToken) =>
        (await CountAsync(saleId, cancellationToken))?.Remaining;

    /// <summary>Answered and on disk in the journal, not yet written to the database.</summary>
    public ValueTask<bool> IsAdmittedAsync(Guid reservationId, Guid userId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(journal.IsPending(reservationId, userId));

    public Task WarmAsync(SaleTerms sale, CancellationToken cancellationToken) => CountersAsync(sale);

    public IReadOnlyCollection<Guid> LoadedSales => [.. _sales.Keys];

    public void Forget(Guid saleId) => _sales.TryRemove(saleId, out _);

    /// <summary>Memory cannot roll back: the units go back once the release has committed.</summary>
    public Task ReleaseAsync(FlashSalesDbContext db, ReleasedUnits released, CancellationToken cancellationToken) =>
        db.RunAfterCommitAsync(_ =>
        {
            Release(released.SaleId, released.UserId, released.ReservationId, released.Quantity);
            return Task.CompletedTask;
        }, cancellationToken);

    /// <summary>The database refused a journaled reservation (recorded as released): its units go back, once.</summary>
    public void GiveBackRefused(PendingReservation refused) => Release(refused.SaleId, refused.UserId, refused.Id, refused.Quantity);

    private void Release(Guid saleId, Guid userId, Guid reservationId, int quantity)
    {
        if (!_sales.TryGetValue(saleId, out var loading) || !loading.IsValueCreated)
        {
            return; // not loaded: the load reads the release from the database
        }
        if (!loading.Value.IsCompleted)
        {
            // Loading now, perhaps from a snapshot taken before the release: apply it when loaded
            // (a snapshot taken after it holds no such reservation, so nothing is given twice).
            _ = loading.Value.ContinueWith(loaded => Release(loaded.Result, userId, reservationId, quantity),
                CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            return;
        }
        if (loading.Value.IsCompletedSuccessfully)
        {
            Release(loading.Value.Result, userId, reservationId, quantity);
        }
    }

    private static void Release(SaleCounters counters, Guid userId, Guid reservationId, int quantity)
    {
        if (!counters.Buyers.TryGetValue(userId, out var buyer))
        {
            return;
        }
        lock (buyer)
        {
            if (!buyer.Reservations.Remove(reservationId))
            {
                return;
            }
            buyer.Units -= quantity;
            buyer.Released[reservationId] = quantity;
        }
        counters.GiveBack(quantity);
    }

    public async ValueTask<ReserveOutcome?> FindEarlierAsync(SaleTerms sale, Guid userId, int quantity, Guid reservationId, CancellationToken cancellationToken)
    {
        var counters = await CountersAsync(sale);
        if (!counters.Buyers.TryGetValue(userId, out var buyer))
        {
            return null;
        }
        lock (buyer)
        {
            return buyer.Earlier(reservationId, quantity);
        }
    }

    public async ValueTask<ReserveOutcome> ReserveAsync(SaleTerms sale, Guid userId, int quantity, Guid reservationId, bool keyed, CancellationToken cancellationToken)
    {
        var counters = await CountersAsync(sale);
        if (counters.Remaining < quantity && !counters.Buyers.ContainsKey(userId))
        {
            return ReserveOutcome.SoldOut; // the sold-out fast path: no lock, no I/O
        }
        var buyer = counters.Buyers.GetOrAdd(userId, _ => new Buyer());
        lock (buyer)
        {
            if (buyer.Earlier(reservationId, quantity) is { } earlier)
            {
                return earlier;
            }
            if (journal.Backlog >= options.Value.JournalMaxBacklog)
            {
                return ReserveOutcome.Busy;
            }
            if (buyer.Units + quantity > sale.PerUserLimit)
            {
                return ReserveOutcome.LimitReached;
            }
            if (!counters.TryTake(quantity))
            {
                return ReserveOutcome.SoldOut;
            }
            buyer.Units += quantity;
            buyer.Reservations[reservationId] = new BuyerReservation(quantity, Durable: false);
        }

        try
        {
            await journal.AppendAsync(new PendingReservation(reservationId, sale.SaleId, userId, quantity, sale.PerUserLimit,
                AdmittedAt: clock.GetUtcNow(), RecordRefusal: true, TraceParent: Telemetry.TraceParentOf(Activity.Current)));
        }
        catch (ReservationStateUnknownException)
        {
            // On disk or not, nobody knows: these counters are dropped and rebuilt (journal, then database).
            Drop(sale.SaleId, counters);
            throw;
        }
        catch
        {
            GiveBack(counters, buyer, reservationId, quantity);
            throw;
        }
        lock (buyer)
        {
            buyer.Reservations[reservationId] = new BuyerReservation(quantity, Durable: true);
        }
        return ReserveOutcome.Reserved;
    }

    private static void GiveBack(SaleCounters counters, Buyer buyer, Guid reservationId, int quantity)
    {
        lock (buyer)
        {
            buyer.Units -= quantity;
            buyer.Reservations.Remove(reservationId);
        }
        counters.GiveBack(quantity);
    }

    private Task<SaleCounters> CountersAsync(SaleTerms sale)
    {
        while (true)
        {
            var loading = _sales.GetOrAdd(sale.SaleId, _ => new Lazy<Task<SaleCounters>>(() => LoadAsync(sale)));
            if (!loading.Value.IsFaulted)
            {
                return loading.Value;
            }
            // A failed load (database away) is not kept: this request loads again.
            _sales.TryRemove(new KeyValuePair<Guid, Lazy<Task<SaleCounters>>>(sale.SaleId, loading));
        }
    }

    /// <summary>Forgets <paramref name="counters"/> if they are still the sale's: the next purchase rebuilds them from the database.</summary>
    private void Drop(Guid saleId, SaleCounters counters)
    {
        if (_sales.TryGetValue(saleId, out var loading) && loading.IsValueCreated
            && loading.Value.IsCompletedSuccessfully && ReferenceEquals(loading.Value.Result, counters))
        {
            _sales.TryRemove(new KeyValuePair<Guid, Lazy<Task<SaleCounters>>>(saleId, loading));
        }
    }

    /// <summary>
    /// Free units = quantity − units held by unreleased reservations, in the database or on disk in
    /// the journal and not yet drained; each buyer's units and reservations (released ones too, so a
    /// retry with the same key is answered as before). The journal's records are copied before the
    /// database is read: one drained in between is then in the database, and counted once.
    /// </summary>
    private async Task<SaleCounters> LoadAsync(SaleTerms sale)
    {
        await journal.RecoverAsync();
        var pending = journal.PendingOf(sale.SaleId);
        await using var scope = scopes.CreateAsyncScope();
        var snapshot = await LedgerSnapshot.ReadAsync(
            scope.ServiceProvider.GetRequiredService<FlashSalesDbContext>(), sale, includeReleased: true, CancellationToken.None);
        var inDatabase = new HashSet<Guid>(snapshot.Reservations.Count);
        var free = snapshot.Free;
        var counters = new SaleCounters();
        foreach (var reservation in snapshot.Reservations)
        {
            inDatabase.Add(reservation.Id);
            var buyer = counters.Buyers.GetOrAdd(reservation.UserId, _ => new Buyer());
            if (reservation.Released)
            {
                buyer.Released[reservation.Id] = reservation.Quantity;
                continue;
            }
            buyer.Units += reservation.Quantity;
            buyer.Reservations[reservation.Id] = new BuyerReservation(reservation.Quantity, Durable: true);
        }
        foreach (var reservation in pending.Where(p => !inDatabase.Contains(p.Id)))
        {
            var buyer = counters.Buyers.GetOrAdd(reservation.UserId, _ => new Buyer());
            buyer.Units += reservation.Quantity;
            buyer.Reservations[reservation.Id] = new BuyerReservation(reservation.Quantity, Durable: true);
            free -= reservation.Quantity;
        }
        counters.GiveBack(free);
        return counters;
    }

    private sealed class SaleCounters
    {
        private int _remaining;

        public int Remaining => Volatile.Read(ref _remaining);

        public ConcurrentDictionary<Guid, Buyer> Buyers { get; } = new();

        public bool TryTake(int quantity)
        {
            while (true)
            {
                var remaining = Volatile.Read(ref _remaining);
                if (remaining < quantity)
                {
                    return false;
                }
                if (Interlocked.CompareExchange(ref _remaining, remaining - quantity, remaining) == remaining)
                {
                    return true;
                }
            }
        }

        public void GiveBack(int quantity) => Interlocked.Add(ref _remaining, quantity);
    }

    /// <summary>One buyer's share of a sale; guarded by locking the instance.</summary>
    private sealed class Buyer
    {
        public int Units;
        public readonly Dictionary<Guid, BuyerReservation> Reservations = [];

        /// <summary>Released reservations (cancelled or expired orders): a retry with their key is answered as before and holds nothing.</summary>
        public readonly Dictionary<Guid, int> Released = [];

        public ReserveOutcome? Earlier(Guid reservationId, int quantity) =>
            Reservations.TryGetValue(reservationId, out var earlier)
                ? earlier.Quantity != quantity ? ReserveOutcome.KeyReused
                    : earlier.Durable ? ReserveOutcome.Replayed
                    : ReserveOutcome.InFlight
                : Released.TryGetValue(reservationId, out var units)
                    ? units != quantity ? ReserveOutcome.KeyReused : ReserveOutcome.Replayed
                    : null;
    }

    private readonly record struct BuyerReservation(int Quantity, bool Durable);
}
