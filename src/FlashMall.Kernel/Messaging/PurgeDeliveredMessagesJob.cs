using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Kernel.Messaging;

/// <summary>Deletes delivered outbox messages and processed-message records older than 7 days (dead letters stay).</summary>
internal sealed class PurgeDeliveredMessagesJob(IServiceProvider services, IEnumerable<ModuleDbContextRegistration> modules, TimeProvider clock) : IScheduledJob
{
    public const string Name = "kernel.purge-delivered-messages";

    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow() - Retention;
        foreach (var (db, _) in modules.Holding<OutboxMessage>(services))
        {
            await db.Set<OutboxMessage>().Where(m => m.SentAt != null && m.SentAt < cutoff).ExecuteDeleteAsync(cancellationToken);
            await db.Set<ProcessedMessage>().Where(p => p.ProcessedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        }
    }
}
