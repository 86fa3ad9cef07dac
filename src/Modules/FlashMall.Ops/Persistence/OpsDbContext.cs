using FlashMall.Kernel.Persistence;
using FlashMall.Ops.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FlashMall.Ops.Persistence;

internal abstract class OpsDbContext(DbContextOptions options) : DbContext(options)
{
    public const string Schema = "ops";

    public DbSet<Switch> Switches => Set<Switch>();
    public DbSet<SwitchChange> Changes => Set<SwitchChange>();
    public DbSet<AuditEntry> Audit => Set<AuditEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<Switch>(s =>
        {
            s.ToTable("switches");
            s.HasKey(x => x.Name);
            s.Property(x => x.Name).HasMaxLength(Switch.MaxNameLength);
            s.Property(x => x.Description).HasMaxLength(Switch.MaxDescriptionLength);
            s.Property(x => x.UpdatedBy).HasMaxLength(64);
        });
        modelBuilder.Entity<SwitchChange>(c =>
        {
            c.ToTable("changes");
            c.HasKey(x => x.Id);
            c.Property(x => x.Switch).HasMaxLength(Switch.MaxNameLength);
            c.Property(x => x.Reason).HasMaxLength(SwitchChange.MaxReasonLength);
            c.Property(x => x.Status).HasMaxLength(16).IsConcurrencyToken();
        });
        modelBuilder.Entity<AuditEntry>(a =>
        {
            a.ToTable("audit");
            a.HasKey(x => x.Id);
            a.Property(x => x.Action).HasMaxLength(16);
            a.Property(x => x.Switch).HasMaxLength(Switch.MaxNameLength);
            a.Property(x => x.Reason).HasMaxLength(SwitchChange.MaxReasonLength);
            a.HasIndex(x => x.At);
        });
        modelBuilder.UseClientGeneratedKeys();
    }
}

internal sealed class OpsSqliteDbContext(DbContextOptions<OpsSqliteDbContext> options) : OpsDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.UseSortableTimes();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseSchemaAsTablePrefix();
    }
}

internal sealed class OpsPostgresDbContext(DbContextOptions<OpsPostgresDbContext> options) : OpsDbContext(options);

internal sealed class OpsSqliteDesignFactory : IDesignTimeDbContextFactory<OpsSqliteDbContext>
{
    public OpsSqliteDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<OpsSqliteDbContext>(OpsDbContext.Schema));
}

internal sealed class OpsPostgresDesignFactory : IDesignTimeDbContextFactory<OpsPostgresDbContext>
{
    public OpsPostgresDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<OpsPostgresDbContext>(OpsDbContext.Schema));
}
