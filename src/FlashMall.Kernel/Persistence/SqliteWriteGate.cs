using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Kernel.Persistence;

/// <summary>
/// Takes turns, in memory, between this process's busy writers of one SQLite file. SQLite lets
/// one transaction write at a time; a writer that finds the lock taken is put to sleep by
/// SQLite's busy handler for 1, 2, 5 … up to 100 ms and retries, long after the lock was freed.
/// With the reservation writer and the order worker both committing every few milliseconds,
/// those sleeps made p99 over a second and halved throughput (docs/BENCHMARKS.md). Writers that
/// enter here wait on a semaphore instead and start the moment the previous one is done; the
/// rare other writers still rely on the busy timeout. On PostgreSQL this does nothing.
/// </summary>
public static class SqliteWriteGate
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    /// <summary>
    /// Waits for this file's turn; dispose the result to end it (nothing to wait for on other providers).
    /// On a thread of its own (<see cref="Hosting.DedicatedThread"/>: the journal's drain, the
    /// reservation writer, the order worker) the wait blocks that thread: awaited, the turn would
    /// resume on a thread-pool thread, and the batch after it — SQLite works synchronously, a
    /// thousand rows take tens to hundreds of milliseconds — would hold that pool thread, and the
    /// requests queued behind it, instead of the writer's own.
    /// </summary>
    public static ValueTask<Turn> EnterAsync(DbContext db, CancellationToken cancellationToken = default)
    {
        if (!db.Database.IsSqlite())
        {
            return ValueTask.FromResult(default(Turn));
        }
        var gate = Gates.GetOrAdd(db.Database.GetDbConnection().DataSource, _ => new SemaphoreSlim(1, 1));
        if (Hosting.DedicatedThread.IsCurrent)
        {
            gate.Wait(cancellationToken);
            return ValueTask.FromResult(new Turn(gate));
        }
        return EnterAsync(gate, cancellationToken);
    }

    private static async ValueTask<Turn> EnterAsync(SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        return new Turn(gate);
    }

    /// <summary>One writer's turn at a file.</summary>
    public readonly struct Turn(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
