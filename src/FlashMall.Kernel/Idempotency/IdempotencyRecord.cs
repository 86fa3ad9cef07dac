using Microsoft.EntityFrameworkCore;

namespace FlashMall.Kernel.Idempotency;

/// <summary>
/// One claimed <c>Idempotency-Key</c>. The primary key (scope, key) makes the claim an atomic
/// insert; the stored answer is written in the same transaction as the endpoint's effect.
/// </summary>
public sealed class IdempotencyRecord
{
    private IdempotencyRecord()
    {
    }

    public string Scope { get; private set; } = "";
    public string Key { get; private set; } = "";
    public byte[] RequestHash { get; private set; } = [];
    public bool Completed { get; private set; }
    public int? ResponseStatus { get; private set; }
    public string? ResponseContentType { get; private set; }
    public string? ResponseLocation { get; private set; }
    public byte[]? ResponseBody { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset LeaseExpiresAt { get; private set; }
    /// <summary>Which attempt holds the claim: only that attempt may store the answer.</summary>
    public Guid ClaimToken { get; private set; }

    internal static IdempotencyRecord Claim(string scope, string key, byte[] requestHash, Guid claimToken, DateTimeOffset now, TimeSpan lease) => new()
    {
        Scope = scope,
        Key = key,
        RequestHash = requestHash,
        ClaimToken = claimToken,
        CreatedAt = now,
        LeaseExpiresAt = now + lease,
    };
}

public static class IdempotencyModel
{
    /// <summary>Adds the module's idempotency table; call from each module's <c>OnModelCreating</c>.</summary>
    public static ModelBuilder AddIdempotencyRecords(this ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<IdempotencyRecord>(record =>
        {
            record.ToTable("idempotency_records");
            record.HasKey(r => new { r.Scope, r.Key });
            record.Property(r => r.Scope).HasMaxLength(64);
            record.Property(r => r.Key).HasMaxLength(IdempotencyFilter.MaxKeyLength);
            record.Property(r => r.ResponseContentType).HasMaxLength(128);
            record.Property(r => r.ResponseLocation).HasMaxLength(512);
            record.HasIndex(r => r.CreatedAt);
        });
        return modelBuilder;
    }
}
