using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using FlashMall.Ordering.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FlashMall.Ordering.Persistence;

internal abstract class OrderingDbContext(DbContextOptions options) : DbContext(options)
{
    public const string Schema = "ordering";

    public DbSet<Order> Orders => Set<Order>();

    public DbSet<CartItem> CartItems => Set<CartItem>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<Order>(order =>
        {
            order.ToTable("orders");
            order.HasKey(o => o.Id);
            order.Property(o => o.Status).HasMaxLength(24);
            order.HasIndex(o => new { o.UserId, o.CreatedAt });
            order.HasIndex(o => new { o.Status, o.PayBefore });
            // One order per reservation, whatever retries or workers do.
            order.HasIndex(o => o.ReservationId).IsUnique();
            order.OwnsMany(o => o.Lines, line =>
            {
                line.ToTable("order_lines");
                line.WithOwner().HasForeignKey("order_id");
                line.HasKey("order_id", nameof(OrderLine.LineNo));
                line.Property(l => l.LineNo).ValueGeneratedNever();
                line.Property(l => l.ProductName).HasMaxLength(200);
            });
            order.Navigation(o => o.Lines).UsePropertyAccessMode(PropertyAccessMode.Field);
            order.OwnsOne(o => o.Address, address =>
            {
                address.Property(a => a.Name).HasMaxLength(ShippingAddressRules.MaxName);
                address.Property(a => a.Phone).HasMaxLength(ShippingAddressRules.MaxPhone);
                address.Property(a => a.Line1).HasMaxLength(ShippingAddressRules.MaxLine);
                address.Property(a => a.City).HasMaxLength(ShippingAddressRules.MaxName);
                address.Property(a => a.Region).HasMaxLength(ShippingAddressRules.MaxName);
                address.Property(a => a.Postcode).HasMaxLength(ShippingAddressRules.MaxPostcode);
            });
            order.ToTable(t => t.HasCheckConstraint("ck_orders_total", "total >= 0 AND total = subtotal - discount"));
        });
        modelBuilder.Entity<CartItem>(item =>
        {
            item.ToTable("cart_items", t => t.HasCheckConstraint("ck_cart_items_quantity", $"quantity > 0 AND quantity <= {CartItem.MaxQuantity}"));
            item.HasKey(i => new { i.UserId, i.SkuId });
        });
        modelBuilder.AddIdempotencyRecords();
        modelBuilder.AddOutbox();
        modelBuilder.UseClientGeneratedKeys();
    }
}

internal sealed class OrderingSqliteDbContext(DbContextOptions<OrderingSqliteDbContext> options) : OrderingDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.UseSortableTimes();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseSchemaAsTablePrefix();
    }
}

internal sealed class OrderingPostgresDbContext(DbContextOptions<OrderingPostgresDbContext> options) : OrderingDbContext(options);

internal sealed class OrderingSqliteDesignFactory : IDesignTimeDbContextFactory<OrderingSqliteDbContext>
{
    public OrderingSqliteDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<OrderingSqliteDbContext>(OrderingDbContext.Schema));
}

internal sealed class OrderingPostgresDesignFactory : IDesignTimeDbContextFactory<OrderingPostgresDbContext>
{
    public OrderingPostgresDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<OrderingPostgresDbContext>(OrderingDbContext.Schema));
}
