using System.Collections.Concurrent;
using System.Diagnostics;
using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Observability;
using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.FlashSales.Ledger;

/// <summary>
/// The embedded ledger, for a single node: per sale a lock-free counter of free units and, per
/// buyer, a small record of units and reservations under that buyer's own lock (buyers never
/// contend with each other). A purchase takes its units from the counters, then waits for
/// <see cref="ReservationWriter"/> to commit the reservation (group commit: one transaction for
/// all that arrived meanwhile), and only then answers; if the write fails or the database
/// refuses, the units go back. After a restart the counters are rebuilt from the database, so
/// an answered reservation is never lost and never sold twice.
/// </summary>
internal sealed class InProcessLedger(IServiceScopeFactory scopes, ReservationWriter writer) : IStockLedger
{
    private readonly ConcurrentDictionary<Guid, Lazy<Task<SaleCounters>>> _sales = new();

    public ValueTask<LedgerCount?> CountAsync(Guid saleId, CancellationToken cancellationToken) =>
        ValueTask.FromResult<LedgerCount?>(
            _sales.TryGetValue(saleId, out var loading) && loading.IsValueCreated && loading.Value.IsCompletedSuccessfully
                ? new LedgerCount(loading.Value.Result.Remaining, loading.Value.Result.InFlight)
                : null);

    public async ValueTask<int?> RemainingAsync(Guid saleId, CancellationToken cancellationToken) =>
        (await CountAsync(saleId, cancellationToken))?.Remaining;

    /// <summary>Never: a buyer hears "reserved" only once the row is committed.</summary>
    public ValueTask<bool> IsAdmittedAsync(Guid reservationId, Guid userId, CancellationToken cancellationToken) => ValueTask.FromResult(false);

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
            return buyer.Reservations.TryGetValue(reservationId, out var earlier)
                ? earlier.Quantity != quantity ? ReserveOutcome.KeyReused
                    : earlier.Durable ? ReserveOutcome.Replayed
                    : ReserveOutcome.InFlight
                : null;
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
            if (buyer.Reservations.TryGetValue(reservationId, out var earlier))
            {
                return earlier.Quantity != quantity ? ReserveOutcome.KeyReused
                    : earlier.Durable ? ReserveOutcome.Replayed
                    : ReserveOutcome.InFlight;
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

        WriteResult written;
        counters.EnterFlight(quantity);
        try
        {
            written = await writer.WriteAsync(new PendingReservation(reservationId, sale.SaleId, userId, quantity, sale.PerUserLimit,
                TraceParent: Telemetry.TraceParentOf(Activity.Current)));
        }
        catch (ReservationStateUnknownException)
        {
            // Written or not, nobody knows: these counters are dropped and rebuilt from the database.
            Drop(sale.SaleId, counters);
            throw;
        }
        catch
        {
            GiveBack(counters, buyer, reservationId, quantity);
            throw;
        }
        finally
        {
            counters.LeaveFlight(quantity);
        }
        switch (written)
        {
            case WriteResult.Written or WriteResult.AlreadyWritten:
                // Already written: an earlier request with this key that this node did not know
                // of (another node on the same store); its units are held either way.
                lock (buyer)
                {
                    buyer.Reservations[reservationId] = new BuyerReservation(quantity, Durable: true);
                }
                return written == WriteResult.Written ? ReserveOutcome.Reserved : ReserveOutcome.Replayed;
            case WriteResult.RefusedLimit:
                GiveBack(counters, buyer, reservationId, quantity);
                return ReserveOutcome.LimitReached;
            case WriteResult.KeyReused:
                GiveBack(counters, buyer, reservationId, quantity);
                return ReserveOutcome.KeyReused;
            case WriteResult.AlreadyReleased:
                // A retry of a purchase whose order was since cancelled: the same answer, nothing held
                // (the buyer sees "released" on the reservation).
                GiveBack(counters, buyer, reservationId, quantity);
                return ReserveOutcome.Replayed;
            default:
                GiveBack(counters, buyer, reservationId, quantity);
                return ReserveOutcome.SoldOut;
        }
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

    /// <summary>Free units = quantity − units held by unreleased reservations; each buyer's units and reservations.</summary>
    private async Task<SaleCounters> LoadAsync(SaleTerms sale)
    {
        await using var scope = scopes.CreateAsyncScope();
        var snapshot = await LedgerSnapshot.ReadAsync(
            scope.ServiceProvider.GetRequiredService<FlashSalesDbContext>(), sale, includeReleased: false, CancellationToken.None);
        var counters = new SaleCounters(snapshot.Free);
        foreach (var reservation in snapshot.Reservations)
        {
            var buyer = counters.Buyers.GetOrAdd(reservation.UserId, _ => new Buyer());
            buyer.Units += reservation.Quantity;
            buyer.Reservations[reservation.Id] = new BuyerReservation(reservation.Quantity, Durable: true);
        }
        return counters;
    }

    private sealed class SaleCounters(int remaining)
    {
        private int _remaining = remaining;

        private int _inFlight;

        public int Remaining => Volatile.Read(ref _remaining);

        public int InFlight => Volatile.Read(ref _inFlight);

        public void EnterFlight(int quantity) => Interlocked.Add(ref _inFlight, quantity);

        public void LeaveFlight(int quantity) => Interlocked.Add(ref _inFlight, -quantity);

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
    }

    private readonly record struct BuyerReservation(int Quantity, bool Durable);
}
