using System.Diagnostics;
using FlashMall.Kernel.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.FlashSales.Ledger.Journal;

/// <summary>
/// Writes the journal's reservations to the database behind the answers: waits
/// <see cref="Gather"/> after the first record so a rush is written in batches of up to
/// <see cref="MaxBatch"/> (the random-keyed index pages each transaction dirties are then shared
/// by many rows), then writes them through <see cref="ReservationWriter"/>, which decides for
/// good (stock, per-buyer limit, idempotency). A refusal — the database disagreeing with the
/// counters, which only a bug or a hand-edited database makes — is recorded as released with
/// reason <c>gate_false_positive</c> and its units go back to the counters. A failed batch is
/// tried again a second later; meanwhile the records stay on disk and in memory.
/// <para>
/// Peak shaving (<see cref="PeakShaving"/>): while purchases keep arriving, it rests after each
/// batch so that it takes a tenth of its time until the backlog fills 60% of
/// <c>FlashSales:JournalMaxBacklog</c>, and a growing share up to half of it at 90%; the buyers'
/// requests get the cores, and the backlog waits on disk. When they stop, it takes half of its
/// time: it holds SQLite's one write lock for a batch at a time, and the requests' own writes
/// find it free the other half.
/// </para>
/// <para>Starting it recovers the journal first, so the node takes no purchase before that is done.</para>
/// </summary>
internal sealed partial class JournalDrain(
    ReservationJournal journal, ReservationWriter writer, InProcessLedger ledger, PeakShaving peak, IOptions<FlashSalesOptions> options,
    ILogger<JournalDrain> logger)
    : BackgroundService
{
    public const int MaxBatch = 2000;
    public static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await journal.RecoverAsync().WaitAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>
    /// A node stopping writes what is left (the web server has stopped taking purchases by now),
    /// so a node started on another journal folder loses nothing; what the host's shutdown
    /// timeout cuts off stays on disk for the recovery of the next start.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            for (var batch = journal.TakeForDrain(MaxBatch); batch.Count > 0 && !cancellationToken.IsCancellationRequested; batch = journal.TakeForDrain(MaxBatch))
            {
                await WriteAsync(batch);
            }
        }
        catch (Exception ex)
        {
            LogFailed(logger, ex, journal.Backlog);
        }
    }

    /// <summary>
    /// On a thread of its own: SQLite works synchronously, and a batch of a thousand rows on a
    /// thread-pool thread would hold back the requests queued behind it.
    /// </summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => DedicatedThread.Start("Reservation journal drain", Run, stoppingToken);

    private void Run(CancellationToken stoppingToken)
    {
        List<PendingReservation>? failed = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var batch = failed ?? journal.TakeForDrain(MaxBatch);
            if (batch.Count == 0)
            {
                journal.WaitForWorkAsync(stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default).Wait(CancellationToken.None);
                stoppingToken.WaitHandle.WaitOne(Gather);
                continue;
            }
            try
            {
                var admissions = peak.Admissions;
                var started = Stopwatch.GetTimestamp();
                WriteAsync(batch).GetAwaiter().GetResult();
                failed = null;
                var fill = (double)journal.Backlog / options.Value.JournalMaxBacklog;
                if (peak.PauseAfter(Stopwatch.GetElapsedTime(started), admissions, fill, PeakShaving.SqliteWriterShare) is { Ticks: > 0 } pause)
                {
                    stoppingToken.WaitHandle.WaitOne(pause);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, ex, batch.Count);
                failed = batch;
                stoppingToken.WaitHandle.WaitOne(RetryAfter);
            }
        }
    }

    private async Task WriteAsync(List<PendingReservation> batch)
    {
        var results = await writer.WriteNowAsync(batch);
        for (var i = 0; i < batch.Count; i++)
        {
            if (results[i] is not (WriteResult.Written or WriteResult.AlreadyWritten))
            {
                var refused = batch[i];
                LogRefused(logger, refused.Id, refused.SaleId, results[i]);
                ledger.GiveBackRefused(refused);
            }
        }
        journal.Drained(batch);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The database refused journaled reservation {ReservationId} of flash sale {SaleId} ({Result}); it is recorded as released (gate_false_positive) and its units go back")]
    private static partial void LogRefused(ILogger logger, Guid reservationId, Guid saleId, WriteResult result);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Count} journaled reservations to the database failed; they stay in the journal and are written again")]
    private static partial void LogFailed(ILogger logger, Exception exception, int count);
}
