using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace FlashMall.Kernel.Persistence;

/// <summary>
/// Runs side effects (cache invalidation, notifications) only once the change they describe is
/// committed: at once when no transaction is open, else right after that transaction commits,
/// and never if it rolls back. Otherwise a reader could re-cache the old row between the
/// invalidation and the commit.
/// </summary>
public static class AfterCommit
{
    private static readonly ConditionalWeakTable<DbContext, List<Func<CancellationToken, Task>>> Pending = new();

    public static async Task RunAfterCommitAsync(this DbContext db, Func<CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is null)
        {
            // Called after the change was saved: finish even if the request is cancelled now.
            await action(CancellationToken.None);
            return;
        }
        Pending.GetOrCreateValue(db).Add(action);
    }

    internal static async Task RunPendingAsync(DbContext? db, CancellationToken cancellationToken)
    {
        if (db is null || !Pending.TryGetValue(db, out var actions))
        {
            return;
        }
        Pending.Remove(db);
        foreach (var action in actions)
        {
            await action(cancellationToken);
        }
    }

    internal static void Discard(DbContext? db)
    {
        if (db is not null)
        {
            Pending.Remove(db);
        }
    }
}

internal sealed class AfterCommitInterceptor : DbTransactionInterceptor
{
    public static readonly AfterCommitInterceptor Instance = new();

    // The change is committed: its side effects run to the end even if the request is cancelled.
    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default) =>
        AfterCommit.RunPendingAsync(eventData.Context, CancellationToken.None);

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) =>
        AfterCommit.RunPendingAsync(eventData.Context, CancellationToken.None).GetAwaiter().GetResult();

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        AfterCommit.Discard(eventData.Context);
        return Task.CompletedTask;
    }

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => AfterCommit.Discard(eventData.Context);
}
