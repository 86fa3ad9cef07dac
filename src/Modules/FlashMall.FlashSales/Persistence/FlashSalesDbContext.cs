using FlashMall.FlashSales.Domain;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FlashMall.FlashSales.Persistence;

internal abstract class FlashSalesDbContext(DbContextOptions options) : DbContext(options)
{
    public const string Schema = "flash_sales";

    public DbSet<SaleEvent> Sales => Set<SaleEvent>();
    public DbSet<Reservation> Reservations => Set<Reservation>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<SaleEvent>(sale =>
        {
            sale.ToTable("sale_events");
            sale.HasKey(s => s.Id);
            sale.Property(s => s.Name).HasMaxLength(200);
            sale.HasIndex(s => new { s.StartsAt, s.EndsAt });
            sale.HasIndex(s => s.SkuId);
            sale.ToTable(t => t.HasCheckConstraint("ck_sale_events_reserved", "reserved >= 0 AND reserved <= quantity"));
        });
        modelBuilder.Entity<Reservation>(reservation =>
        {
            reservation.ToTable("reservations");
            reservation.HasKey(r => r.Id);
            reservation.Property(r => r.Status).HasMaxLength(16);
            reservation.Property(r => r.ReleasedReason).HasMaxLength(64);
            reservation.Property(r => r.TraceParent).HasMaxLength(Reservation.MaxTraceParentLength);
            reservation.HasIndex(r => new { r.SaleId, r.UserId });
            reservation.HasIndex(r => new { r.SaleId, r.Status });
            reservation.HasIndex(r => new { r.Status, r.CreatedAt });
            reservation.ToTable(t => t.HasCheckConstraint("ck_reservations_quantity", "quantity > 0"));
        });
        modelBuilder.AddIdempotencyRecords();
        modelBuilder.AddOutbox();
        modelBuilder.UseClientGeneratedKeys();
    }
}

internal sealed class FlashSalesSqliteDbContext(DbContextOptions<FlashSalesSqliteDbContext> options) : FlashSalesDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.UseSortableTimes();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseSchemaAsTablePrefix();
    }
}

internal sealed class FlashSalesPostgresDbContext(DbContextOptions<FlashSalesPostgresDbContext> options) : FlashSalesDbContext(options);

internal sealed class FlashSalesSqliteDesignFactory : IDesignTimeDbContextFactory<FlashSalesSqliteDbContext>
{
    public FlashSalesSqliteDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<FlashSalesSqliteDbContext>(FlashSalesDbContext.Schema));
}

internal sealed class FlashSalesPostgresDesignFactory : IDesignTimeDbContextFactory<FlashSalesPostgresDbContext>
{
    public FlashSalesPostgresDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<FlashSalesPostgresDbContext>(FlashSalesDbContext.Schema));
}
