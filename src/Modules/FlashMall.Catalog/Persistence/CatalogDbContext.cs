using System.Text.Json;
using FlashMall.Catalog.Domain;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Design;

namespace FlashMall.Catalog.Persistence;

internal abstract class CatalogDbContext(DbContextOptions options) : DbContext(options)
{
    public const string Schema = "catalog";

    public DbSet<Category> Categories => Set<Category>();
    public DbSet<Product> Products => Set<Product>();
    public DbSet<Sku> Skus => Set<Sku>();

    /// <summary>Stored JSON keeps Chinese as characters (not 6-byte escapes); it is never written into a page as is.</summary>
    private static readonly JsonSerializerOptions StoredJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<Category>(category =>
        {
            category.HasKey(c => c.Id);
            category.Property(c => c.Name).HasMaxLength(64);
            category.Property(c => c.Path).HasMaxLength(512);
            category.HasIndex(c => c.Path);
        });
        modelBuilder.Entity<Product>(product =>
        {
            product.HasKey(p => p.Id);
            product.Property(p => p.Name).HasMaxLength(200);
            product.Property(p => p.Description).HasMaxLength(5000);
            product.Property(p => p.Brand).HasMaxLength(64);
            product.Ignore(p => p.ImageUrl);
            product.Ignore(p => p.ActiveSkus);
            product.Property(p => p.Version).IsConcurrencyToken();
            product.HasMany(p => p.Skus).WithOne().HasForeignKey(s => s.ProductId).OnDelete(DeleteBehavior.Cascade);
            product.Navigation(p => p.Skus).HasField("_skus").UsePropertyAccessMode(PropertyAccessMode.Field);
            product.HasOne<Category>().WithMany().HasForeignKey(p => p.CategoryId).OnDelete(DeleteBehavior.Restrict);
            product.HasIndex(p => new { p.CategoryId, p.Sales });
            product.HasIndex(p => p.Sales);
        });
        modelBuilder.Entity<Sku>(sku =>
        {
            sku.HasKey(s => s.Id);
            sku.Property(s => s.Code).HasMaxLength(64);
            sku.HasIndex(s => s.Code).IsUnique();
            sku.Property(s => s.Attributes)
                .HasConversion(
                    value => JsonSerializer.Serialize(value, StoredJson),
                    json => JsonSerializer.Deserialize<Dictionary<string, string>>(json, StoredJson) ?? new Dictionary<string, string>(),
                    new ValueComparer<Dictionary<string, string>>(
                        (a, b) => a!.Count == b!.Count && !a.Except(b).Any(),
                        d => d.Aggregate(0, (hash, pair) => HashCode.Combine(hash, pair.Key, pair.Value)),
                        d => new Dictionary<string, string>(d, StringComparer.Ordinal)));
        });
        modelBuilder.AddIdempotencyRecords();
        modelBuilder.AddOutbox();
        modelBuilder.UseClientGeneratedKeys();
    }
}

internal sealed class CatalogSqliteDbContext(DbContextOptions<CatalogSqliteDbContext> options) : CatalogDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.UseSortableTimes();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseSchemaAsTablePrefix();
    }
}

internal sealed class CatalogPostgresDbContext(DbContextOptions<CatalogPostgresDbContext> options) : CatalogDbContext(options);

internal sealed class CatalogSqliteDesignFactory : IDesignTimeDbContextFactory<CatalogSqliteDbContext>
{
    public CatalogSqliteDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<CatalogSqliteDbContext>(CatalogDbContext.Schema));
}

internal sealed class CatalogPostgresDesignFactory : IDesignTimeDbContextFactory<CatalogPostgresDbContext>
{
    public CatalogPostgresDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<CatalogPostgresDbContext>(CatalogDbContext.Schema));
}
