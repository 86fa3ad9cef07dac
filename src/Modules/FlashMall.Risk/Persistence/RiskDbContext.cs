using FlashMall.Kernel.Persistence;
using FlashMall.Risk.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FlashMall.Risk.Persistence;

internal abstract class RiskDbContext(DbContextOptions options) : DbContext(options)
{
    public const string Schema = "risk";

    public DbSet<RiskDecision> Decisions => Set<RiskDecision>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<RiskDecision>(decision =>
        {
            decision.ToTable("decisions");
            decision.HasKey(d => d.Id);
            decision.Property(d => d.Action).HasMaxLength(32);
            decision.Property(d => d.Rule).HasMaxLength(32);
            decision.Property(d => d.DeviceId).HasMaxLength(Contracts.Risk.DeviceIds.MaxLength);
            decision.Property(d => d.Ip).HasMaxLength(45);
            decision.Property(d => d.Subject).HasMaxLength(64);
            decision.Property(d => d.Detail).HasMaxLength(RiskDecision.MaxDetailLength);
            decision.HasIndex(d => d.At);
            decision.HasIndex(d => new { d.Rule, d.At });
            decision.HasIndex(d => new { d.UserId, d.At });
        });
        modelBuilder.UseClientGeneratedKeys();
    }
}

internal sealed class RiskSqliteDbContext(DbContextOptions<RiskSqliteDbContext> options) : RiskDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.UseSortableTimes();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseSchemaAsTablePrefix();
    }
}

internal sealed class RiskPostgresDbContext(DbContextOptions<RiskPostgresDbContext> options) : RiskDbContext(options);

internal sealed class RiskSqliteDesignFactory : IDesignTimeDbContextFactory<RiskSqliteDbContext>
{
    public RiskSqliteDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<RiskSqliteDbContext>(RiskDbContext.Schema));
}

internal sealed class RiskPostgresDesignFactory : IDesignTimeDbContextFactory<RiskPostgresDbContext>
{
    public RiskPostgresDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<RiskPostgresDbContext>(RiskDbContext.Schema));
}
