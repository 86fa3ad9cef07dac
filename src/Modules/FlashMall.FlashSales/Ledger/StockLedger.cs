namespace FlashMall.FlashSales.Ledger;

/// <summary>What the ledger needs to know of a sale; fixed once the sale is created.</summary>
internal sealed record SaleTerms(Guid SaleId, int Quantity, int PerUserLimit, DateTimeOffset StartsAt, DateTimeOffset EndsAt);

internal enum ReserveOutcome
{
    /// <summary>Reserved and durable: the buyer may be told.</summary>
    Reserved,
    /// <summary>The same Idempotency-Key reserved this before: the same answer again.</summary>
    Replayed,
    /// <summary>The same Idempotency-Key is still being reserved.</summary>
    InFlight,
    /// <summary>The same Idempotency-Key was used with another quantity.</summary>
    KeyReused,
    SoldOut,
    LimitReached,
}

/// <summary>
/// The stock ledger port: admits or refuses a purchase atomically (stock, per-buyer limit) and
/// records the reservation durably before it answers. Adapters: <see cref="InProcessLedger"/>
/// (embedded default) and, with the flash-sale issue's second half, Redis.
/// </summary>
internal interface IStockLedger
{
    ValueTask<ReserveOutcome> ReserveAsync(SaleTerms sale, Guid userId, int quantity, Guid reservationId, CancellationToken cancellationToken);

    /// <summary>Units still free for sale, as the ledger knows them; null when the sale is not loaded in it yet.</summary>
    int? Remaining(Guid saleId);

    /// <summary>Units taken for reservations whose write has not finished yet (the reconciler counts them).</summary>
    int InFlight(Guid saleId);

    /// <summary>
    /// What an earlier purchase with this reservation id (an Idempotency-Key) became: replayed,
    /// in flight, or the key reused with another quantity; null when there was none. Checked
    /// before the sale's window, so a retry after the end still finds its reservation.
    /// </summary>
    ValueTask<ReserveOutcome?> FindEarlierAsync(SaleTerms sale, Guid userId, int quantity, Guid reservationId, CancellationToken cancellationToken);

    /// <summary>
    /// Gives a released reservation's units back to the sale and its buyer's share back to the
    /// buyer; called after the release has committed (a reservation it does not hold changes nothing).
    /// </summary>
    void Release(Guid saleId, Guid userId, Guid reservationId, int quantity);

    /// <summary>Sales whose counters are in memory.</summary>
    IReadOnlyCollection<Guid> LoadedSales { get; }

    /// <summary>Drops a sale's counters (an ended sale); a later use reloads them from the database.</summary>
    void Forget(Guid saleId);

    /// <summary>Loads the sale's counters from the database ahead of its start (idempotent).</summary>
    Task WarmAsync(SaleTerms sale, CancellationToken cancellationToken);
}
