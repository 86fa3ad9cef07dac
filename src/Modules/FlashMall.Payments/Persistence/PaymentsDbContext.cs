using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using FlashMall.Payments.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FlashMall.Payments.Persistence;

internal abstract class PaymentsDbContext(DbContextOptions options) : DbContext(options)
{
    public const string Schema = "payments";

    public DbSet<Payment> Payments => Set<Payment>();

    public DbSet<ProcessedWebhookEvent> WebhookEvents => Set<ProcessedWebhookEvent>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<Payment>(payment =>
        {
            payment.ToTable("payments", t => t.HasCheckConstraint("ck_payments_amount", "amount > 0"));
            payment.HasKey(p => p.Id);
            payment.Property(p => p.Currency).HasMaxLength(3);
            payment.Property(p => p.Method).HasMaxLength(24);
            payment.Property(p => p.Status).HasMaxLength(16);
            payment.Property(p => p.ProviderRef).HasMaxLength(100);
            payment.Property(p => p.PayUrl).HasMaxLength(500);
            payment.Property(p => p.Reason).HasMaxLength(100);
            payment.HasIndex(p => p.OrderId, "ix_payments_order_id");
            payment.HasIndex(p => new { p.Status, p.UpdatedAt });
            // At most one active intent per order, whatever arrives at once: a second request reuses it.
            payment.HasIndex(p => p.OrderId, "ux_payments_active_order").IsUnique()
                .HasFilter($"status IN ({string.Join(", ", PaymentStatus.Active.Select(s => $"'{s}'"))})");
        });
        modelBuilder.Entity<ProcessedWebhookEvent>(processed =>
        {
            processed.ToTable("webhook_events");
            processed.HasKey(e => e.EventId);
            processed.Property(e => e.EventId).HasMaxLength(100);
            processed.Property(e => e.Type).HasMaxLength(50);
        });
        modelBuilder.AddIdempotencyRecords();
        modelBuilder.AddOutbox();
        modelBuilder.UseClientGeneratedKeys();
    }
}

internal sealed class PaymentsSqliteDbContext(DbContextOptions<PaymentsSqliteDbContext> options) : PaymentsDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.UseSortableTimes();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseSchemaAsTablePrefix();
    }
}

internal sealed class PaymentsPostgresDbContext(DbContextOptions<PaymentsPostgresDbContext> options) : PaymentsDbContext(options);

internal sealed class PaymentsSqliteDesignFactory : IDesignTimeDbContextFactory<PaymentsSqliteDbContext>
{
    public PaymentsSqliteDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<PaymentsSqliteDbContext>(PaymentsDbContext.Schema));
}

internal sealed class PaymentsPostgresDesignFactory : IDesignTimeDbContextFactory<PaymentsPostgresDbContext>
{
    public PaymentsPostgresDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<PaymentsPostgresDbContext>(PaymentsDbContext.Schema));
}
