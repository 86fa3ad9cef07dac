using System.Diagnostics.Metrics;
using FlashMall.FlashSales.Domain;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlashMall.FlashSales.Ledger.Redis;

/// <summary>
/// Writes the reservations the Redis gate admitted (each sale's stream) to the database through
/// <see cref="ReservationWriter"/>, which decides for good: written, already written (a redelivery),
/// or refused — then recorded as released with reason <c>gate_false_positive</c> and counted.
/// Entries are read by the consumer group <see cref="Group"/>, and deleted and acknowledged
/// together once their batch has committed, so the stream holds exactly what the database does
/// not yet; a node that dies holding entries leaves them pending, and another node claims them
/// after <c>FlashSales:Redis:ReclaimAfter</c>.
/// </summary>
internal sealed partial class ReservationStream(IConnectionMultiplexer redis, ReservationWriter writer, IMeterFactory meters, ILogger<ReservationStream> logger)
{
    public const string Group = "writers";
    public const int BatchSize = 512;

    /// <summary>
    /// Deletes and acknowledges entries in one step: never deleted-but-pending nor
    /// acknowledged-but-kept (a stream without the group, read by a rebuild, is only trimmed).
    /// </summary>
    private const string Done = """
        redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
        local ok, acked = pcall(redis.call, 'XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
        if ok then return acked end
        return 0
        """;

    private readonly string _consumer = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";

    private readonly Counter<long> _falsePositives = meters.Create(SaleReconciler.MeterName).CreateCounter<long>(
        "flashmall.flash_sales.gate_false_positives", description: "Reservations the Redis gate admitted and the database refused.");

    /// <summary>New entries (or, after a failure, this consumer's own pending ones); how many were written.</summary>
    public async Task<int> ReadAsync(SaleTerms sale, SaleKeys keys, bool ownPendingFirst)
    {
        var entries = await redis.GetDatabase().StreamReadGroupAsync(keys.Stream, Group, _consumer, ownPendingFirst ? "0-0" : ">", BatchSize);
        return await WriteAsync(sale, keys, entries);
    }

    /// <summary>Entries another consumer has held for longer than <paramref name="idle"/> (it died): claimed and written.</summary>
    public async Task<int> ReclaimAsync(SaleTerms sale, SaleKeys keys, TimeSpan idle)
    {
        var claimed = await redis.GetDatabase().StreamAutoClaimAsync(keys.Stream, Group, _consumer, (long)idle.TotalMilliseconds, "0-0", BatchSize);
        if (claimed.DeletedIds.Length > 0)
        {
            await redis.GetDatabase().StreamAcknowledgeAsync(keys.Stream, Group, claimed.DeletedIds);
        }
        return await WriteAsync(sale, keys, claimed.ClaimedEntries);
    }

    /// <summary>Everything the stream holds, read or not, written and removed (a rebuild does this before its snapshot).</summary>
    public async Task<int> DrainAsync(SaleTerms sale, SaleKeys keys, CancellationToken cancellationToken)
    {
        var total = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var entries = await redis.GetDatabase().StreamRangeAsync(keys.Stream, "-", "+", BatchSize);
            if (entries.Length == 0)
            {
                break;
            }
            total += await WriteAsync(sale, keys, entries);
        }
        return total;
    }

    private async Task<int> WriteAsync(SaleTerms sale, SaleKeys keys, StreamEntry[] entries)
    {
        if (entries.Length == 0)
        {
            return 0;
        }
        var pending = new List<PendingReservation>(entries.Length);
        foreach (var entry in entries)
        {
            if (Parse(sale, entry) is { } reservation)
            {
                pending.Add(reservation);
            }
            else
            {
                LogMalformed(logger, sale.SaleId, entry.Id.ToString());
            }
        }
        var results = await Task.WhenAll(pending.Select(writer.WriteAsync));
        var refused = 0;
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i] is WriteResult.RefusedStock or WriteResult.RefusedLimit)
            {
                refused++;
                LogFalsePositive(logger, pending[i].Id, sale.SaleId, results[i]);
            }
        }
        if (refused > 0)
        {
            _falsePositives.Add(refused);
            await ResyncAsync(sale.SaleId, keys, $"{refused} admitted reservations were refused by the database");
        }
        await redis.GetDatabase().ScriptEvaluateAsync(Done, [keys.Stream], [Group, .. entries.Select(e => e.Id)]);
        return entries.Length;
    }

    /// <summary>
    /// Redis has drifted from the database (it admitted what the database refused, or does not
    /// know a reservation the database released): the sale's epoch is dropped, so the next
    /// purchase pauses admission and the sale is rebuilt from the database.
    /// </summary>
    public async Task ResyncAsync(Guid saleId, SaleKeys keys, string why)
    {
        await redis.GetDatabase().HashDeleteAsync(keys.Meta, "epoch");
        LogResync(logger, saleId, why);
    }

    private static PendingReservation? Parse(SaleTerms sale, StreamEntry entry) =>
        Guid.TryParseExact(entry["r"].ToString(), "N", out var id)
        && Guid.TryParseExact(entry["u"].ToString(), "N", out var user)
        && entry["q"].TryParse(out int quantity) && quantity > 0
        && entry["t"].TryParse(out long admittedAt)
            ? new PendingReservation(id, sale.SaleId, user, quantity, sale.PerUserLimit,
                DateTimeOffset.FromUnixTimeMilliseconds(admittedAt), RecordRefusal: true,
                TraceParent: entry["p"] is { IsNullOrEmpty: false } traceParent ? traceParent.ToString() : null)
            : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Flash sale {SaleId}: Redis has drifted from the database ({Why}); it is rebuilt from the database")]
    private static partial void LogResync(ILogger logger, Guid saleId, string why);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream entry {EntryId} of flash sale {SaleId} is malformed; dropped")]
    private static partial void LogMalformed(ILogger logger, Guid saleId, string entryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reservation {ReservationId} of flash sale {SaleId} was admitted by Redis and refused by the database ({Result}): released as " + ReleaseReason.GateFalsePositive)]
    private static partial void LogFalsePositive(ILogger logger, Guid reservationId, Guid saleId, WriteResult result);
}
