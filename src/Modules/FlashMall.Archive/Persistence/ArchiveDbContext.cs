using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FlashMall.Archive.Persistence;

/// <summary>
/// One business event waiting for its day's Parquet files: written by the archive's consumers in
/// their own transaction (and by the search-query writer). <see cref="EventKey"/> names the event
/// (e.g. the paid order), so an event told twice is staged once.
/// </summary>
internal sealed class StagedEvent
{
    public long Sequence { get; private set; }
    public Guid EventKey { get; private set; }
    public string Dataset { get; private set; } = "";
    /// <summary>The UTC day of <see cref="OccurredAt"/> as <c>yyyyMMdd</c>.</summary>
    public int Day { get; private set; }
    public DateTimeOffset OccurredAt { get; private set; }
    /// <summary>The event's fields as JSON (the dataset's row type).</summary>
    public string Payload { get; private set; } = "";
    public DateTimeOffset StagedAt { get; private set; }
    /// <summary>When a durable file first held it; rows stay <see cref="ArchiveOptions.StagingRetention"/> longer for re-runs.</summary>
    public DateTimeOffset? ExportedAt { get; private set; }

    public static StagedEvent Create(Guid eventKey, string dataset, DateTimeOffset occurredAt, string payload, DateTimeOffset now) => new()
    {
        EventKey = eventKey, Dataset = dataset, Day = ArchiveDays.Number(occurredAt), OccurredAt = occurredAt.ToUniversalTime(), Payload = payload, StagedAt = now,
    };
}

/// <summary>What the archive wrote for one day: when, how many rows, and whether its staged rows are gone.</summary>
internal sealed class ArchivedDay
{
    public int Day { get; private set; }
    public DateTimeOffset ExportedAt { get; set; }
    public long Rows { get; set; }
    public int Files { get; set; }
    /// <summary>Set once the day's staged rows were deleted: later rows for it go to extra files, never replacing the old ones.</summary>
    public DateTimeOffset? PurgedAt { get; set; }

    public static ArchivedDay Create(int day) => new() { Day = day };
}

internal abstract class ArchiveDbContext(DbContextOptions options) : DbContext(options)
{
    public const string Schema = "archive";

    public DbSet<StagedEvent> StagedEvents => Set<StagedEvent>();
    public DbSet<ArchivedDay> Days => Set<ArchivedDay>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<StagedEvent>(staged =>
        {
            staged.ToTable("staged_events");
            staged.HasKey(e => e.Sequence);
            staged.Property(e => e.Sequence).ValueGeneratedOnAdd();
            staged.HasIndex(e => e.EventKey).IsUnique();
            staged.Property(e => e.Dataset).HasMaxLength(32);
            staged.HasIndex(e => new { e.Day, e.Dataset, e.Sequence });
            staged.HasIndex(e => new { e.ExportedAt, e.Day });
        });
        modelBuilder.Entity<ArchivedDay>(day =>
        {
            day.ToTable("days");
            day.HasKey(d => d.Day);
            day.Property(d => d.Day).ValueGeneratedNever();
        });
        modelBuilder.AddOutbox();
        modelBuilder.UseClientGeneratedKeys();
    }
}

internal sealed class ArchiveSqliteDbContext(DbContextOptions<ArchiveSqliteDbContext> options) : ArchiveDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.UseSortableTimes();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseSchemaAsTablePrefix();
    }
}

internal sealed class ArchivePostgresDbContext(DbContextOptions<ArchivePostgresDbContext> options) : ArchiveDbContext(options);

internal sealed class ArchiveSqliteDesignFactory : IDesignTimeDbContextFactory<ArchiveSqliteDbContext>
{
    public ArchiveSqliteDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<ArchiveSqliteDbContext>(ArchiveDbContext.Schema));
}

internal sealed class ArchivePostgresDesignFactory : IDesignTimeDbContextFactory<ArchivePostgresDbContext>
{
    public ArchivePostgresDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<ArchivePostgresDbContext>(ArchiveDbContext.Schema));
}
