using Microsoft.EntityFrameworkCore;

namespace FlashMall.Kernel.Messaging;

/// <summary>
/// An integration event waiting to be delivered, written in the same transaction as the change
/// it describes. Delivered at least once, in order per aggregate; after too many failures it is
/// dead-lettered until an operator replays it.
/// </summary>
public sealed class OutboxMessage
{
    private OutboxMessage()
    {
    }

    /// <summary>Assigned by the store on insert: the delivery order (UUIDv7 ids are not ordered within a millisecond).</summary>
    public long Sequence { get; private set; }
    /// <summary>The message's identity across transports and in consumers' processed records.</summary>
    public Guid Id { get; private set; }
    public string AggregateId { get; private set; } = "";
    public string Type { get; private set; } = "";
    public string Payload { get; private set; } = "";
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset? SentAt { get; private set; }
    public int Attempts { get; private set; }
    public DateTimeOffset? NextAttemptAt { get; private set; }
    public string? LastError { get; private set; }
    public DateTimeOffset? DeadLetteredAt { get; private set; }

    internal void MarkSent(DateTimeOffset now) => SentAt = now;

    /// <summary>Schedules the next attempt with exponential backoff, or dead-letters the message after the last one.</summary>
    internal void RecordFailure(string error, DateTimeOffset now, MessagingOptions options)
    {
        Attempts++;
        LastError = error.Length > OutboxModel.MaxErrorLength ? error[..OutboxModel.MaxErrorLength] : error;
        if (Attempts >= options.MaxAttempts)
        {
            DeadLetteredAt = now;
            NextAttemptAt = null;
            return;
        }
        NextAttemptAt = now + options.RetryDelayAfter(Attempts);
    }

    internal static OutboxMessage Create(Guid id, string aggregateId, string type, string payload, DateTimeOffset now) => new()
    {
        Id = id,
        AggregateId = aggregateId,
        Type = type,
        Payload = payload,
        CreatedAt = now,
    };
}

/// <summary>A consumer's record that it has handled a message, written in its own transaction with its effect.</summary>
public sealed class ProcessedMessage
{
    private ProcessedMessage()
    {
    }

    public Guid MessageId { get; private set; }
    public string Consumer { get; private set; } = "";
    public DateTimeOffset ProcessedAt { get; private set; }

    internal static ProcessedMessage For(Guid messageId, string consumer, DateTimeOffset now) =>
        new() { MessageId = messageId, Consumer = consumer, ProcessedAt = now };
}

/// <summary>
/// Which node relays a module's outbox: one at a time, so events of an aggregate leave in order.
/// A holder renews it while it works; when it lapses (the node died) another node takes over.
/// </summary>
public sealed class OutboxLease
{
    public const string RelayName = "relay";

    private OutboxLease()
    {
    }

    public string Name { get; private set; } = "";
    public string Holder { get; private set; } = "";
    public DateTimeOffset ExpiresAt { get; private set; }

    internal static OutboxLease Create(string name, string holder, DateTimeOffset expiresAt) =>
        new() { Name = name, Holder = holder, ExpiresAt = expiresAt };
}

public static class OutboxModel
{
    public const int MaxErrorLength = 2000;

    /// <summary>Adds the module's outbox and processed-message tables; call from the module's <c>OnModelCreating</c>.</summary>
    public static ModelBuilder AddOutbox(this ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<OutboxMessage>(message =>
        {
            message.ToTable("outbox_messages");
            message.HasKey(m => m.Sequence);
            message.Property(m => m.Sequence).ValueGeneratedOnAdd();
            message.HasIndex(m => m.Id).IsUnique();
            message.Property(m => m.AggregateId).HasMaxLength(64);
            message.Property(m => m.Type).HasMaxLength(256);
            message.Property(m => m.LastError).HasMaxLength(MaxErrorLength);
            message.HasIndex(m => new { m.SentAt, m.DeadLetteredAt, m.Sequence });
            message.HasIndex(m => new { m.AggregateId, m.Sequence });
        });
        modelBuilder.Entity<ProcessedMessage>(processed =>
        {
            processed.ToTable("processed_messages");
            processed.HasKey(p => new { p.MessageId, p.Consumer });
            processed.Property(p => p.Consumer).HasMaxLength(128);
            processed.HasIndex(p => p.ProcessedAt);
        });
        modelBuilder.Entity<OutboxLease>(lease =>
        {
            lease.ToTable("outbox_leases");
            lease.HasKey(l => l.Name);
            lease.Property(l => l.Name).HasMaxLength(64);
            lease.Property(l => l.Holder).HasMaxLength(200);
        });
        return modelBuilder;
    }
}
