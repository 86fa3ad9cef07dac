using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FlashMall.Search.Persistence;

/// <summary>
/// Search keeps its documents in the search engine; its store holds only the record of the
/// catalog events it has applied (so each is applied once) and the module's outbox tables.
/// </summary>
internal abstract class SearchDbContext(DbContextOptions options) : DbContext(options)
{
    public const string Schema = "search";

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.AddOutbox();
        modelBuilder.UseClientGeneratedKeys();
    }
}

internal sealed class SearchSqliteDbContext(DbContextOptions<SearchSqliteDbContext> options) : SearchDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.UseSortableTimes();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseSchemaAsTablePrefix();
    }
}

internal sealed class SearchPostgresDbContext(DbContextOptions<SearchPostgresDbContext> options) : SearchDbContext(options);

internal sealed class SearchSqliteDesignFactory : IDesignTimeDbContextFactory<SearchSqliteDbContext>
{
    public SearchSqliteDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<SearchSqliteDbContext>(SearchDbContext.Schema));
}

internal sealed class SearchPostgresDesignFactory : IDesignTimeDbContextFactory<SearchPostgresDbContext>
{
    public SearchPostgresDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<SearchPostgresDbContext>(SearchDbContext.Schema));
}
