using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Kernel.Messaging;

/// <summary>
/// Moves every module's committed outbox messages to the transport, at least once and in order
/// per aggregate, and marks them sent. One node relays a module at a time (a lease in the
/// module's store). A message waiting for its retry, or dead-lettered, holds back the later
/// messages of its aggregate. Runs on <c>all</c> and <c>worker</c> nodes.
/// </summary>
internal sealed partial class OutboxRelay(
    IServiceScopeFactory scopes,
    IEnumerable<ModuleDbContextRegistration> modules,
    IOutboxTransport transport,
    IOptions<MessagingOptions> options,
    TimeProvider clock,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    public const int BatchSize = 200;

    private readonly string _holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly Dictionary<string, DateTimeOffset> _leasedUntil = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var woken = OutboxSignal.Instance.Next;
                var more = false;
                foreach (var module in modules)
                {
                    try
                    {
                        more |= await RelayAsync(module, stoppingToken);
                    }
                    catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                    {
                        // A store or the broker may be down: the other modules go on; this one is tried again next pass.
                        LogRelayFailed(logger, ex, module.Schema);
                    }
                }
                if (!more)
                {
                    await Task.WhenAny(woken, Task.Delay(options.Value.PollInterval, clock, stoppingToken));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await ReleaseLeasesAsync();
        }
    }

    /// <summary>Relays one batch of the module's outbox if this node holds its lease; true when more may be waiting.</summary>
    internal async Task<bool> RelayAsync(ModuleDbContextRegistration module, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        foreach (var (db, schema) in new[] { module }.Holding<OutboxMessage>(scope.ServiceProvider))
        {
            if (await HoldLeaseAsync(db, schema, cancellationToken) is { } leasedUntil)
            {
                // Finish the batch well inside the lease, so no other node starts relaying meanwhile.
                using var withinLease = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                withinLease.CancelAfter(Max(leasedUntil - clock.GetUtcNow() - options.Value.RelayLease / 4, TimeSpan.FromSeconds(1)));
                return await DeliverPendingAsync(db, schema, withinLease.Token);
            }
        }
        return false;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private async Task<bool> DeliverPendingAsync(DbContext db, string schema, CancellationToken cancellationToken)
    {
        // Events of one aggregate leave in order or not at all: one waiting for its retry, or
        // dead-lettered, holds back the later ones of its aggregate. They are left out in the
        // query, so however many wait, the other aggregates' events still fill the batch.
        var now = clock.GetUtcNow();
        var outbox = db.Set<OutboxMessage>();
        var ready = await outbox
            .Where(m => m.SentAt == null && m.DeadLetteredAt == null && (m.NextAttemptAt == null || m.NextAttemptAt <= now))
            .Where(m => !outbox.Any(earlier => earlier.AggregateId == m.AggregateId && earlier.Sequence < m.Sequence
                && (earlier.DeadLetteredAt != null || (earlier.SentAt == null && earlier.NextAttemptAt > now))))
            .OrderBy(m => m.Sequence)
            .Take(BatchSize)
            .ToListAsync(cancellationToken);
        if (ready.Count == 0)
        {
            return false;
        }

        var outcomes = await transport.DeliverAsync(schema, ready, cancellationToken);
        var delivered = clock.GetUtcNow();
        for (var i = 0; i < ready.Count; i++)
        {
            var message = ready[i];
            var outcome = outcomes[i];
            if (outcome.Sent)
            {
                message.MarkSent(delivered);
            }
            else if (outcome.Error is { } error)
            {
                message.RecordFailure(error, delivered, options.Value);
                if (message.DeadLetteredAt is not null)
                {
                    LogDeadLettered(logger, message.Id, message.Type, message.Attempts, error);
                }
            }
        }
        await db.SaveChangesAsync(CancellationToken.None);
        return ready.Count == BatchSize && outcomes.All(o => o.Sent);
    }

    /// <summary>
    /// Takes or renews this node's lease on the module's relay (renewed once a quarter of it has
    /// run); the time it is held until, or null when another node holds it.
    /// </summary>
    private async Task<DateTimeOffset?> HoldLeaseAsync(DbContext db, string schema, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var duration = options.Value.RelayLease;
        if (_leasedUntil.TryGetValue(schema, out var until) && until - now > duration * 3 / 4)
        {
            return until;
        }
        var expires = now + duration;
        var taken = await db.Set<OutboxLease>()
            .Where(l => l.Name == OutboxLease.RelayName && (l.Holder == _holder || l.ExpiresAt < now))
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Holder, _holder).SetProperty(l => l.ExpiresAt, expires), cancellationToken) == 1;
        if (!taken && !await db.Set<OutboxLease>().AnyAsync(l => l.Name == OutboxLease.RelayName, cancellationToken))
        {
            var lease = db.Add(OutboxLease.Create(OutboxLease.RelayName, _holder, expires));
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                taken = true;
            }
            catch (DbUpdateException ex) when (ex.IsUniqueViolation())
            {
                lease.State = EntityState.Detached; // another node was first
            }
        }
        if (taken)
        {
            if (!_leasedUntil.ContainsKey(schema))
            {
                LogLeaseTaken(logger, schema, _holder);
            }
            _leasedUntil[schema] = expires;
            return expires;
        }
        _leasedUntil.Remove(schema);
        return null;
    }

    /// <summary>On a clean stop, lets another node take over at once instead of after the lease runs out.</summary>
    private async Task ReleaseLeasesAsync()
    {
        if (_leasedUntil.Count == 0)
        {
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await using var scope = scopes.CreateAsyncScope();
            foreach (var (db, schema) in modules.Holding<OutboxMessage>(scope.ServiceProvider))
            {
                if (_leasedUntil.ContainsKey(schema))
                {
                    await db.Set<OutboxLease>()
                        .Where(l => l.Name == OutboxLease.RelayName && l.Holder == _holder)
                        .ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, DateTimeOffset.UnixEpoch), timeout.Token);
                }
            }
            _leasedUntil.Clear();
        }
        catch (Exception ex)
        {
            LogLeaseReleaseFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} ({Type}) dead-lettered after {Attempts} attempts: {Error}")]
    private static partial void LogDeadLettered(ILogger logger, Guid messageId, string type, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Relaying the outbox of {Module} failed; retrying")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception, string module);

    [LoggerMessage(Level = LogLevel.Information, Message = "This node ({Holder}) now relays the outbox of {Module}")]
    private static partial void LogLeaseTaken(ILogger logger, string module, string holder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release the relay leases on stop; other nodes take over when they expire")]
    private static partial void LogLeaseReleaseFailed(ILogger logger, Exception exception);
}
