using Microsoft.EntityFrameworkCore;

namespace FlashMall.Kernel.Persistence;

/// <summary>
/// Makes transactions that check a count and then add (a cart's lines, a book's entries) take
/// turns per key, so parallel requests cannot both see room for one more. On PostgreSQL a
/// transaction-scoped advisory lock on the key (released at commit or rollback); on SQLite
/// nothing is needed, as a write transaction already holds the database's one write lock from
/// its start (Microsoft.Data.Sqlite begins them IMMEDIATE).
/// </summary>
public static class TransactionLocks
{
    /// <summary>Waits for <paramref name="key"/> inside the current transaction (there must be one).</summary>
    public static async Task TakeTurnAsync(DbContext db, string key, CancellationToken cancellationToken = default)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A turn is taken inside a transaction.");
        }
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({key}, 0))", cancellationToken);
        }
    }
}
