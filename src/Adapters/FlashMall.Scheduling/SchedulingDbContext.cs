using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FlashMall.Scheduling;

internal abstract class SchedulingDbContext(DbContextOptions options) : DbContext(options)
{
    public const string Schema = "scheduling";

    public DbSet<JobRun> Runs => Set<JobRun>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<JobRun>(run =>
        {
            run.ToTable("job_runs");
            run.HasKey(r => new { r.JobName, r.ScheduledAt });
            run.Property(r => r.JobName).HasMaxLength(128);
            run.Property(r => r.Node).HasMaxLength(128);
            run.Property(r => r.Outcome).HasConversion<string>().HasMaxLength(16);
            run.Property(r => r.Error).HasMaxLength(JobRun.MaxErrorLength);
            run.HasIndex(r => r.StartedAt);
        });
    }
}

internal sealed class SchedulingSqliteDbContext(DbContextOptions<SchedulingSqliteDbContext> options) : SchedulingDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.UseSortableTimes();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseSchemaAsTablePrefix();
    }
}

internal sealed class SchedulingPostgresDbContext(DbContextOptions<SchedulingPostgresDbContext> options) : SchedulingDbContext(options);

internal sealed class SchedulingSqliteDesignFactory : IDesignTimeDbContextFactory<SchedulingSqliteDbContext>
{
    public SchedulingSqliteDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<SchedulingSqliteDbContext>(SchedulingDbContext.Schema));
}

internal sealed class SchedulingPostgresDesignFactory : IDesignTimeDbContextFactory<SchedulingPostgresDbContext>
{
    public SchedulingPostgresDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<SchedulingPostgresDbContext>(SchedulingDbContext.Schema));
}
