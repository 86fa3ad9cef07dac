using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Kernel.Messaging;

/// <summary>
/// Deletes delivered outbox messages older than 7 days (dead letters stay until replayed), and
/// processed-message records older than 7 days and older than the oldest dead letter, so that
/// replaying it does not run again the consumers that had already processed it.
/// </summary>
internal sealed class PurgeDeliveredMessagesJob(IServiceProvider services, IEnumerable<ModuleDbContextRegistration> modules, TimeProvider clock) : IScheduledJob
{
    public const string Name = "kernel.purge-delivered-messages";

    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow() - Retention;
        var stores = modules.Holding<OutboxMessage>(services).ToList();
        var processedCutoff = cutoff;
        foreach (var (db, _) in stores)
        {
            var oldestDeadLetter = await db.Set<OutboxMessage>().Where(m => m.DeadLetteredAt != null)
                .OrderBy(m => m.Sequence).Select(m => (DateTimeOffset?)m.CreatedAt).FirstOrDefaultAsync(cancellationToken);
            if (oldestDeadLetter < processedCutoff)
            {
                processedCutoff = oldestDeadLetter.Value;
            }
        }
        foreach (var (db, _) in stores)
        {
            await db.Set<OutboxMessage>().Where(m => m.SentAt != null && m.SentAt < cutoff && m.DeadLetteredAt == null).ExecuteDeleteAsync(cancellationToken);
            await db.Set<ProcessedMessage>().Where(p => p.ProcessedAt < processedCutoff).ExecuteDeleteAsync(cancellationToken);
        }
    }
}
