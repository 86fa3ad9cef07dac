using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlashMall.Kernel.Messaging;

/// <summary>A message's place in the outboxes: the module (schema) that wrote it and its id there.</summary>
public readonly record struct OutboxAddress(string Module, Guid MessageId);

/// <summary>The first dead letter of an aggregate: its later events wait behind it.</summary>
public readonly record struct DeadLetterHead(Guid MessageId, long Sequence);

/// <summary>
/// What a transport that consumes away from the relay (RabbitMQ) writes back to the outbox rows,
/// which stay the one record of delivery state: failed attempts, dead letters, and messages
/// handed back to wait behind a dead letter of their aggregate.
/// </summary>
public sealed partial class OutboxStore(
    IServiceScopeFactory scopes,
    IEnumerable<ModuleDbContextRegistration> modules,
    TimeProvider clock,
    ILogger<OutboxStore> logger)
{
    /// <summary>Counts a failed attempt; the message stays with its transport for the next one.</summary>
    public Task RecordFailureAsync(OutboxAddress address, string error, CancellationToken cancellationToken) =>
        UpdateAsync(address, messages => messages.ExecuteUpdateAsync(s => s
            .SetProperty(m => m.Attempts, m => m.Attempts + 1)
            .SetProperty(m => m.LastError, Truncate(error)), cancellationToken));

    /// <summary>Counts the last failed attempt and puts the message in the dead-letter store, where operators list and replay it.</summary>
    public async Task MarkDeadLetteredAsync(OutboxAddress address, string error, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var updated = await UpdateAsync(address, messages => messages
            .Where(m => m.DeadLetteredAt == null)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.DeadLetteredAt, now)
                .SetProperty(m => m.Attempts, m => m.Attempts + 1)
                .SetProperty(m => m.NextAttemptAt, (DateTimeOffset?)null)
                .SetProperty(m => m.LastError, Truncate(error)), cancellationToken));
        if (updated == 1)
        {
            LogDeadLettered(logger, address.MessageId, address.Module, error);
        }
    }

    /// <summary>
    /// Hands a delivered message back to its outbox as unsent: it waits there behind the dead
    /// letter of its aggregate and leaves again, in order, once that is replayed.
    /// </summary>
    public Task ReturnToOutboxAsync(OutboxAddress address, CancellationToken cancellationToken) =>
        UpdateAsync(address, messages => messages.ExecuteUpdateAsync(s => s
            .SetProperty(m => m.SentAt, (DateTimeOffset?)null), cancellationToken));

    /// <summary>For each (module, aggregate) with a dead letter: the first one.</summary>
    public async Task<Dictionary<(string Module, string AggregateId), DeadLetterHead>> DeadLetterHeadsAsync(CancellationToken cancellationToken)
    {
        var heads = new Dictionary<(string, string), DeadLetterHead>();
        await using var scope = scopes.CreateAsyncScope();
        foreach (var (db, schema) in modules.Holding<OutboxMessage>(scope.ServiceProvider))
        {
            var rows = await db.Set<OutboxMessage>().AsNoTracking()
                .Where(m => m.DeadLetteredAt != null)
                .Select(m => new { m.AggregateId, m.Sequence, m.Id })
                .ToListAsync(cancellationToken);
            foreach (var row in rows.OrderBy(r => r.Sequence))
            {
                heads.TryAdd((schema, row.AggregateId), new DeadLetterHead(row.Id, row.Sequence));
            }
        }
        return heads;
    }

    private async Task<int> UpdateAsync(OutboxAddress address, Func<IQueryable<OutboxMessage>, Task<int>> update)
    {
        var module = modules.FirstOrDefault(m => m.Schema == address.Module)
            ?? throw new InvalidOperationException($"No module '{address.Module}' holds an outbox.");
        await using var scope = scopes.CreateAsyncScope();
        var db = (DbContext)scope.ServiceProvider.GetRequiredService(module.ContextType);
        return await update(db.Set<OutboxMessage>().Where(m => m.Id == address.MessageId));
    }

    private static string Truncate(string error) => error.Length > OutboxModel.MaxErrorLength ? error[..OutboxModel.MaxErrorLength] : error;

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} of {Module} dead-lettered: {Error}")]
    private static partial void LogDeadLettered(ILogger logger, Guid messageId, string module, string error);
}
