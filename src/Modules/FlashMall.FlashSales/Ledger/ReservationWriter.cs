using System.Threading.Channels;
using FlashMall.FlashSales.Domain;
using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using FlashMall.Kernel.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlashMall.FlashSales.Ledger;

/// <summary>A reservation to write.</summary>
/// <param name="Id">The reservation's id (derived from the Idempotency-Key when there is one).</param>
/// <param name="SaleId">The sale.</param>
/// <param name="UserId">The buyer.</param>
/// <param name="Quantity">Units.</param>
/// <param name="PerUserLimit">The sale's limit per buyer, checked again in the database.</param>
/// <param name="AdmittedAt">When the gate admitted it (the Redis ledger); null: now.</param>
/// <param name="TraceParent">The purchase's W3C trace context, kept on the row for the order's span.</param>
/// <param name="RecordRefusal">
/// Write a refused one as <c>released</c> with reason <c>gate_false_positive</c>: its buyer was
/// already told "reserved" by the Redis gate and sees the refusal when polling.
/// </param>
internal sealed record PendingReservation(
    Guid Id, Guid SaleId, Guid UserId, int Quantity, int PerUserLimit, DateTimeOffset? AdmittedAt = null, bool RecordRefusal = false,
    string? TraceParent = null)
{
    private TaskCompletionSource<WriteResult>? _done;

    /// <summary>The answer of the writer's queue; made on first use (the journal's records, held by the hundred thousand during a rush, never need one).</summary>
    public TaskCompletionSource<WriteResult> Done =>
        _done ?? Interlocked.CompareExchange(ref _done, new(TaskCreationOptions.RunContinuationsAsynchronously), null) ?? _done;
}

internal enum WriteResult
{
    Written,
    /// <summary>A reservation with this id exists (a retry with the same Idempotency-Key).</summary>
    AlreadyWritten,
    /// <summary>A reservation with this id exists for another quantity (the key reused for another request).</summary>
    KeyReused,
    /// <summary>A reservation with this id existed and has been released (its order cancelled): it holds nothing now.</summary>
    AlreadyReleased,
    /// <summary>The database has no free units left for it (the gate let through more than there were).</summary>
    RefusedStock,
    /// <summary>The buyer already holds the sale's limit in the database.</summary>
    RefusedLimit,
}

/// <summary>
/// Writes reservations with group commit: whatever arrived while the previous transaction
/// committed goes into the next one (up to <see cref="MaxBatch"/>), so a burst of buyers costs
/// a few commits, not one each, and each buyer waits for one commit. The database decides for
/// good: per sale one conditional update of its reserved units (row by row if the sum does not
/// fit), after the buyer's unreleased units are checked against the limit, before the rows are inserted.
/// </summary>
internal sealed partial class ReservationWriter(IServiceScopeFactory scopes, TimeProvider clock, ILogger<ReservationWriter> logger) : BackgroundService
{
    public const int MaxBatch = 512;

    private readonly Channel<PendingReservation> _queue = Channel.CreateUnbounded<PendingReservation>(new UnboundedChannelOptions { SingleReader = true });

    private int _waiting;

    /// <summary>
    /// Reservations waiting for the next group commit (the <c>flashmall.flash_sales.reservation_writer.queue</c>
    /// gauge; a single-reader channel cannot count itself, so one interlocked add each way does).
    /// </summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public Task<WriteResult> WriteAsync(PendingReservation reservation)
    {
        if (!_queue.Writer.TryWrite(reservation))
        {
            throw new InvalidOperationException("The reservation writer has stopped.");
        }
        Interlocked.Increment(ref _waiting);
        return reservation.Done.Task;
    }

    /// <summary>
    /// Writes these in one transaction now, beside the queue (the embedded ledger's journal drain
    /// and recovery); the results are in the batch's order. Throws when the transaction fails.
    /// </summary>
    public async Task<WriteResult[]> WriteNowAsync(IReadOnlyList<PendingReservation> batch)
    {
        var distinct = batch.DistinctBy(p => p.Id).ToList();
        var results = await WriteBatchAsync(distinct);
        var byId = new Dictionary<Guid, WriteResult>(distinct.Count);
        for (var i = 0; i < distinct.Count; i++)
        {
            byId[distinct[i].Id] = results[i];
        }
        return [.. batch.Select(p => byId[p.Id])];
    }

    /// <summary>
    /// On a thread of its own, waiting synchronously: SQLite works synchronously, and a batch on a
    /// thread-pool thread would hold back the requests queued behind it.
    /// </summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => DedicatedThread.Start("Reservation writer", Run, stoppingToken);

    private void Run(CancellationToken stoppingToken)
    {
        var batch = new List<PendingReservation>(MaxBatch);
        try
        {
            while (_queue.Reader.WaitToReadAsync(stoppingToken).AsTask().GetAwaiter().GetResult())
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }
                Interlocked.Add(ref _waiting, -batch.Count);
                try
                {
                    // The same reservation twice in one batch (a rebuild's drain and the stream's
                    // reader both handed it in): written once, both told the same.
                    var results = WriteNowAsync(batch).GetAwaiter().GetResult();
                    for (var i = 0; i < batch.Count; i++)
                    {
                        batch[i].Done.TrySetResult(results[i]);
                    }
                }
                catch (Exception ex)
                {
                    LogBatchFailed(logger, ex, batch.Count);
                    ResolveAfterFailureAsync(batch, ex).GetAwaiter().GetResult();
                }
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Nothing taken from the counters is left waiting: those not written are refused.
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var left))
            {
                left.Done.TrySetException(new OperationCanceledException("The node is stopping."));
            }
        }
    }

    /// <summary>
    /// A failed batch may still have committed (the connection dropped during the commit): the
    /// rows that exist are reservations, and their buyers are told so; the others fail. If even
    /// that cannot be read, all fail and the ledger rebuilds those sales from the database.
    /// </summary>
    private async Task ResolveAfterFailureAsync(List<PendingReservation> batch, Exception failure)
    {
        HashSet<Guid> written;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<FlashSalesDbContext>();
            var ids = batch.Select(p => p.Id).ToList();
            written = (await db.Reservations.AsNoTracking().Where(r => EF.Parameter(ids).Contains(r.Id)).Select(r => r.Id).ToListAsync()).ToHashSet();
        }
        catch (Exception ex)
        {
            LogResolveFailed(logger, ex, batch.Count);
            written = [];
            failure = new ReservationStateUnknownException(failure);
        }
        foreach (var pending in batch)
        {
            if (written.Contains(pending.Id))
            {
                pending.Done.TrySetResult(WriteResult.Written);
            }
            else
            {
                pending.Done.TrySetException(failure);
            }
        }
    }

    private async Task<WriteResult[]> WriteBatchAsync(List<PendingReservation> batch)
    {
        var results = new WriteResult[batch.Count];
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FlashSalesDbContext>();
        using var turn = await SqliteWriteGate.EnterAsync(db);
        await using var transaction = await db.Database.BeginTransactionAsync();

        var ids = batch.Select(p => p.Id).ToList();
        var earlier = await db.Reservations.Where(r => EF.Parameter(ids).Contains(r.Id)).Select(r => new { r.Id, r.Quantity, r.Status })
            .ToDictionaryAsync(r => r.Id, r => (r.Quantity, r.Status));
        var existing = earlier.Keys.ToHashSet();
        var now = clock.GetUtcNow();
        var rowsToInsert = new List<Reservation>(batch.Count);
        foreach (var sale in Enumerable.Range(0, batch.Count).Where(i => !existing.Contains(batch[i].Id)).GroupBy(i => batch[i].SaleId))
        {
            var rows = sale.ToList();
            // The sale's row is locked first (a no-op update): writers of several nodes take
            // turns per sale, so the limit check below sees every committed reservation.
            await db.Sales.Where(s => s.Id == sale.Key).ExecuteUpdateAsync(s => s.SetProperty(x => x.Reserved, x => x.Reserved));
            await CheckLimitsAsync(db, sale.Key, rows, batch, results);
            await TakeStockAsync(db, sale.Key, [.. rows.Where(i => results[i] == WriteResult.Written)], batch, results);
            foreach (var i in rows)
            {
                var pending = batch[i];
                if (results[i] == WriteResult.Written)
                {
                    rowsToInsert.Add(Reservation.Create(pending.Id, pending.SaleId, pending.UserId, pending.Quantity, pending.AdmittedAt ?? now, pending.TraceParent));
                }
                else if (pending.RecordRefusal)
                {
                    rowsToInsert.Add(Reservation.Refused(pending.Id, pending.SaleId, pending.UserId, pending.Quantity, pending.AdmittedAt ?? now));
                }
            }
        }
        for (var i = 0; i < batch.Count; i++)
        {
            if (earlier.TryGetValue(batch[i].Id, out var row))
            {
                results[i] = row.Quantity != batch[i].Quantity ? WriteResult.KeyReused
                    : row.Status == ReservationStatus.Released ? WriteResult.AlreadyReleased
                    : WriteResult.AlreadyWritten;
            }
        }
        await BulkInsert.InsertAsync(db, rowsToInsert);
        await transaction.CommitAsync();
        return results;
    }

    /// <summary>One conditional update for the whole batch of a sale; row by row only when the sum does not fit.</summary>
    private static async Task TakeStockAsync(FlashSalesDbContext db, Guid saleId, List<int> rows, List<PendingReservation> batch, WriteResult[] results)
    {
        if (rows.Count == 0)
        {
            return;
        }
        var total = rows.Sum(i => batch[i].Quantity);
        if (await TryReserveUnitsAsync(db, saleId, total))
        {
            return;
        }
        foreach (var i in rows)
        {
            if (!await TryReserveUnitsAsync(db, saleId, batch[i].Quantity))
            {
                results[i] = WriteResult.RefusedStock;
            }
        }
    }

    private static async Task<bool> TryReserveUnitsAsync(FlashSalesDbContext db, Guid saleId, int quantity) =>
        await db.Sales
            .Where(s => s.Id == saleId && s.Reserved + quantity <= s.Quantity)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Reserved, x => x.Reserved + quantity)) == 1;

    /// <summary>The buyer's unreleased units in the database plus these must stay within the limit (checked before any stock is taken).</summary>
    private static async Task CheckLimitsAsync(FlashSalesDbContext db, Guid saleId, List<int> rows, List<PendingReservation> batch, WriteResult[] results)
    {
        var users = rows.Where(i => results[i] == WriteResult.Written).Select(i => batch[i].UserId).Distinct().ToList();
        var held = await db.Reservations
            .Where(r => r.SaleId == saleId && EF.Parameter(users).Contains(r.UserId) && r.Status != ReservationStatus.Released)
            .GroupBy(r => r.UserId)
            .Select(g => new { UserId = g.Key, Units = g.Sum(r => r.Quantity) })
            .ToDictionaryAsync(g => g.UserId, g => g.Units);
        foreach (var i in rows.Where(i => results[i] == WriteResult.Written))
        {
            var units = held.GetValueOrDefault(batch[i].UserId) + batch[i].Quantity;
            if (units > batch[i].PerUserLimit)
            {
                results[i] = WriteResult.RefusedLimit;
                continue;
            }
            held[batch[i].UserId] = units;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Count} reservations failed; those the database holds are answered as reserved, the others fail")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "After a failed write, the {Count} reservations could not be looked up; their sales' counters are rebuilt from the database")]
    private static partial void LogResolveFailed(ILogger logger, Exception exception, int count);
}

/// <summary>A write failed and whether it committed is unknown: the counters must be rebuilt from the database.</summary>
internal sealed class ReservationStateUnknownException(Exception inner)
    : Exception("Whether the reservations were written is unknown.", inner);
