using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Kernel.Persistence;

/// <summary>
/// Lets a module's context write inside another module's open transaction on the same database
/// (a checkout's order, stock and coupon commit or roll back together), through the module's own
/// code: the one place modules write together, never by touching each other's tables.
/// </summary>
public static class SharedTransaction
{
    /// <summary>Moves <paramref name="db"/> onto the transaction's connection and enlists it; its writes then commit with the owner's.</summary>
    public static async Task JoinAsync(this DbContext db, DbTransaction transaction, CancellationToken cancellationToken = default)
    {
        db.Database.SetDbConnection(transaction.Connection, contextOwnsConnection: false);
        await db.Database.UseTransactionAsync(transaction, cancellationToken);
    }
}
