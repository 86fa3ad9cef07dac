using FlashMall.Accounts.Domain;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FlashMall.Accounts.Persistence;

internal abstract class AccountsDbContext(DbContextOptions options) : DbContext(options)
{
    public const string Schema = "accounts";

    public DbSet<User> Users => Set<User>();
    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();
    public DbSet<Address> Addresses => Set<Address>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<User>(user =>
        {
            user.HasKey(u => u.Id);
            user.Property(u => u.Email).HasMaxLength(254);
            user.Property(u => u.Phone).HasMaxLength(20);
            user.Property(u => u.Nickname).HasMaxLength(32);
            user.Property(u => u.PasswordHash).HasMaxLength(256);
            user.Property(u => u.Roles).HasMaxLength(128);
            user.HasIndex(u => u.Email).IsUnique();
            user.HasIndex(u => u.Phone).IsUnique();
            user.Ignore(u => u.RoleList);
        });
        modelBuilder.Entity<RefreshToken>(token =>
        {
            token.HasKey(t => t.Id);
            token.HasIndex(t => t.TokenHash).IsUnique();
            token.HasIndex(t => t.FamilyId);
            token.HasIndex(t => t.UserId);
        });
        modelBuilder.Entity<Address>(address =>
        {
            address.HasKey(a => a.Id);
            address.Property(a => a.Name).HasMaxLength(64);
            address.Property(a => a.Phone).HasMaxLength(20);
            address.Property(a => a.Line1).HasMaxLength(200);
            address.Property(a => a.City).HasMaxLength(64);
            address.Property(a => a.Region).HasMaxLength(64);
            address.Property(a => a.Postcode).HasMaxLength(16);
            address.HasIndex(a => a.UserId);
        });
        modelBuilder.AddIdempotencyRecords();
        modelBuilder.AddOutbox();
        modelBuilder.UseClientGeneratedKeys();
    }
}

internal sealed class AccountsSqliteDbContext(DbContextOptions<AccountsSqliteDbContext> options) : AccountsDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.UseSortableTimes();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseSchemaAsTablePrefix();
    }
}

internal sealed class AccountsPostgresDbContext(DbContextOptions<AccountsPostgresDbContext> options) : AccountsDbContext(options);

/// <summary>Lets <c>dotnet ef migrations add</c> build each provider's context without the host.</summary>
internal sealed class AccountsSqliteDesignFactory : IDesignTimeDbContextFactory<AccountsSqliteDbContext>
{
    public AccountsSqliteDbContext CreateDbContext(string[] args) =>
        new(DesignTime.Sqlite<AccountsSqliteDbContext>(AccountsDbContext.Schema));
}

internal sealed class AccountsPostgresDesignFactory : IDesignTimeDbContextFactory<AccountsPostgresDbContext>
{
    public AccountsPostgresDbContext CreateDbContext(string[] args) =>
        new(DesignTime.Postgres<AccountsPostgresDbContext>(AccountsDbContext.Schema));
}
