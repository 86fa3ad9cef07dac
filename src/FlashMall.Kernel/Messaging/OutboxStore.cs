using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlashMall.Kernel.Messaging;

/// <summary>A message's place in the outboxes: the module (schema) that wrote it and its id there.</summary>
public readonly record struct OutboxAddress(string Module, Guid MessageId);

/// <summary>
/// What a transport that consumes away from the relay (RabbitMQ) reads from and writes back to the
/// outbox rows, which stay the one record of delivery state: failed attempts, dead letters, and
/// events held back behind a dead letter of their aggregate.
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
                .SetProperty(m => m.SentAt, (DateTimeOffset?)null)
                .SetProperty(m => m.Attempts, m => m.Attempts + 1)
                .SetProperty(m => m.NextAttemptAt, (DateTimeOffset?)null)
                .SetProperty(m => m.LastError, Truncate(error)), cancellationToken));
        if (updated == 1)
        {
            LogDeadLettered(logger, address.MessageId, address.Module, error);
        }
    }

    /// <summary>
    /// Puts a delivered event that arrived behind a dead letter of its aggregate into the
    /// dead-letter store too, untried: replaying the first dead letter replays it after it, in order.
    /// </summary>
    public Task HoldBackAsync(OutboxAddress address, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return UpdateAsync(address, messages => messages
            .Where(m => m.DeadLetteredAt == null)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.DeadLetteredAt, now)
                .SetProperty(m => m.SentAt, (DateTimeOffset?)null)
                .SetProperty(m => m.LastError, HeldBackError), cancellationToken));
    }

    public const string HeldBackError = "Held back: an earlier event of the same aggregate is dead-lettered; replaying either replays both, in order.";

    /// <summary>For each of <paramref name="aggregateIds"/> of the module that has a dead letter: the sequence of its first.</summary>
    public async Task<Dictionary<string, long>> FirstDeadLettersAsync(string moduleSchema, IReadOnlyCollection<string> aggregateIds, CancellationToken cancellationToken)
    {
        var module = Module(moduleSchema);
        await using var scope = scopes.CreateAsyncScope();
        var db = (DbContext)scope.ServiceProvider.GetRequiredService(module.ContextType);
        return await db.Set<OutboxMessage>()
            .Where(m => m.DeadLetteredAt != null && aggregateIds.Contains(m.AggregateId))
            .GroupBy(m => m.AggregateId)
            .Select(g => new { AggregateId = g.Key, First = g.Min(m => m.Sequence) })
            .ToDictionaryAsync(d => d.AggregateId, d => d.First, StringComparer.Ordinal, cancellationToken);
    }

    private ModuleDbContextRegistration Module(string moduleSchema) =>
        modules.FirstOrDefault(m => m.Schema == moduleSchema)
            ?? throw new InvalidOperationException($"No module '{moduleSchema}' holds an outbox.");

    private async Task<int> UpdateAsync(OutboxAddress address, Func<IQueryable<OutboxMessage>, Task<int>> update)
    {
        var module = Module(address.Module);
        await using var scope = scopes.CreateAsyncScope();
        var db = (DbContext)scope.ServiceProvider.GetRequiredService(module.ContextType);
        return await update(db.Set<OutboxMessage>().Where(m => m.Id == address.MessageId));
    }

    private static string Truncate(string error) => error.Length > OutboxModel.MaxErrorLength ? error[..OutboxModel.MaxErrorLength] : error;

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} of {Module} dead-lettered: {Error}")]
    private static partial void LogDeadLettered(ILogger logger, Guid messageId, string module, string error);
}
