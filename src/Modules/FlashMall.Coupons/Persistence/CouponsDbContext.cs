using FlashMall.Coupons.Domain;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FlashMall.Coupons.Persistence;

internal abstract class CouponsDbContext(DbContextOptions options) : DbContext(options)
{
    public const string Schema = "coupons";

    public DbSet<CouponTemplate> Templates => Set<CouponTemplate>();

    public DbSet<Coupon> Coupons => Set<Coupon>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<CouponTemplate>(template =>
        {
            template.ToTable("templates", t =>
            {
                t.HasCheckConstraint("ck_templates_claimed", "claimed >= 0 AND claimed <= total_quantity");
                t.HasCheckConstraint("ck_templates_value", "value > 0 AND min_spend >= 0");
                t.HasCheckConstraint("ck_templates_new_account_cool_down", "new_account_cool_down_hours >= 0");
            });
            template.HasKey(t => t.Id);
            template.Property(t => t.Name).HasMaxLength(100);
            template.Property(t => t.Kind).HasMaxLength(16);
        });
        modelBuilder.Entity<Coupon>(coupon =>
        {
            coupon.ToTable("coupons");
            coupon.HasKey(c => c.Id);
            coupon.HasIndex(c => new { c.UserId, c.TemplateId });
            coupon.HasIndex(c => c.TemplateId);
        });
        modelBuilder.AddIdempotencyRecords();
        modelBuilder.AddOutbox();
        modelBuilder.UseClientGeneratedKeys();
    }
}

internal sealed class CouponsSqliteDbContext(DbContextOptions<CouponsSqliteDbContext> options) : CouponsDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.UseSortableTimes();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseSchemaAsTablePrefix();
    }
}

internal sealed class CouponsPostgresDbContext(DbContextOptions<CouponsPostgresDbContext> options) : CouponsDbContext(options);

internal sealed class CouponsSqliteDesignFactory : IDesignTimeDbContextFactory<CouponsSqliteDbContext>
{
    public CouponsSqliteDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<CouponsSqliteDbContext>(CouponsDbContext.Schema));
}

internal sealed class CouponsPostgresDesignFactory : IDesignTimeDbContextFactory<CouponsPostgresDbContext>
{
    public CouponsPostgresDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<CouponsPostgresDbContext>(CouponsDbContext.Schema));
}
