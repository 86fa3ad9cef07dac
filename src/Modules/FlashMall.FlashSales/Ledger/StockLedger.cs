using FlashMall.FlashSales.Persistence;

namespace FlashMall.FlashSales.Ledger;

/// <summary>What the ledger needs to know of a sale; fixed once the sale is created.</summary>
internal sealed record SaleTerms(Guid SaleId, int Quantity, int PerUserLimit, DateTimeOffset StartsAt, DateTimeOffset EndsAt);

internal enum ReserveOutcome
{
    /// <summary>Reserved: the buyer may be told (durable in the database on the embedded ledger, in Redis on the Redis one).</summary>
    Reserved,
    /// <summary>The same Idempotency-Key reserved this before: the same answer again.</summary>
    Replayed,
    /// <summary>The same Idempotency-Key is still being reserved.</summary>
    InFlight,
    /// <summary>The same Idempotency-Key was used with another quantity.</summary>
    KeyReused,
    SoldOut,
    LimitReached,
    NotStarted,
    Ended,
    /// <summary>The ledger is being rebuilt from the database (Redis lost the sale's keys): admission is paused.</summary>
    Recovering,
    /// <summary>The embedded ledger holds as many answered reservations not yet in the database as it may: nothing reserved, retry.</summary>
    Busy,
}

/// <summary>A sale's units as the ledger counts them.</summary>
/// <param name="Remaining">Free for sale.</param>
/// <param name="InFlight">Taken for reservations the database does not hold yet (being written, or in the Redis Stream).</param>
internal readonly record struct LedgerCount(int Remaining, int InFlight);

/// <summary>A reservation the database has just released (its order cancelled or expired).</summary>
internal sealed record ReleasedUnits(Guid SaleId, Guid UserId, Guid ReservationId, int Quantity);

/// <summary>
/// The stock ledger port: admits or refuses a purchase atomically (window, stock, per-buyer
/// limit, idempotency). Adapters: <see cref="InProcessLedger"/> (embedded default: counters in
/// memory, the reservation durable in the database before the answer) and
/// <see cref="Redis.RedisLedger"/> (one Lua script per purchase; the database decides for good
/// when the reservation is written from the Redis Stream). docs/ARCHITECTURE.md states the guarantees.
/// </summary>
internal interface IStockLedger
{
    /// <summary>
    /// Admits or refuses a purchase of <paramref name="quantity"/> units by <paramref name="userId"/>
    /// as reservation <paramref name="reservationId"/>. With <paramref name="keyed"/> the id comes
    /// from an <c>Idempotency-Key</c> and may be a retry of a reservation that exists, so no
    /// shortcut may answer "sold out" without looking.
    /// </summary>
    ValueTask<ReserveOutcome> ReserveAsync(SaleTerms sale, Guid userId, int quantity, Guid reservationId, bool keyed, CancellationToken cancellationToken);

    /// <summary>
    /// What an earlier purchase with this reservation id (an Idempotency-Key) became: replayed,
    /// in flight, or the key reused with another quantity; null when there was none or when
    /// <see cref="ReserveAsync"/> will find it anyway. Called before the sale's window is checked,
    /// so a retry after the end or the sell-out still finds its reservation.
    /// </summary>
    ValueTask<ReserveOutcome?> FindEarlierAsync(SaleTerms sale, Guid userId, int quantity, Guid reservationId, CancellationToken cancellationToken);

    /// <summary>
    /// The sale's units as the ledger counts them; null when the sale is not loaded in it.
    /// <see cref="LedgerCount.InFlight"/> is -1 when there are too many to count (a backlog).
    /// </summary>
    ValueTask<LedgerCount?> CountAsync(Guid saleId, CancellationToken cancellationToken);

    /// <summary>Free units, cheaply (for the sale's public view); null when not loaded or not reachable.</summary>
    ValueTask<int?> RemainingAsync(Guid saleId, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the ledger admitted this reservation of this buyer and the database does not hold
    /// it yet (the Redis ledger answers before the row is written); the buyer sees it as reserved.
    /// </summary>
    ValueTask<bool> IsAdmittedAsync(Guid reservationId, Guid userId, CancellationToken cancellationToken);

    /// <summary>
    /// Gives a released reservation's units back to the sale and its buyer's share back to the
    /// buyer, exactly once. Called inside the transaction that releases it in <paramref name="db"/>:
    /// an adapter applies it after that commits (memory cannot roll back) or before, idempotently
    /// (Redis: a failure rolls the release back and it is retried).
    /// </summary>
    Task ReleaseAsync(FlashSalesDbContext db, ReleasedUnits released, CancellationToken cancellationToken);

    /// <summary>Sales this node has loaded.</summary>
    IReadOnlyCollection<Guid> LoadedSales { get; }

    /// <summary>Drops a sale from this node (an ended sale); a later use loads it again.</summary>
    void Forget(Guid saleId);

    /// <summary>Loads the sale into the ledger ahead of its start (idempotent).</summary>
    Task WarmAsync(SaleTerms sale, CancellationToken cancellationToken);
}
