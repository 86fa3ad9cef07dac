using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace FlashMall.Kernel.Persistence;

/// <summary>
/// Conventions shared by every module's DbContext. A module keeps its tables in its own
/// PostgreSQL schema; SQLite has no schemas, so there the schema becomes a table-name prefix
/// (<c>catalog.products</c> → <c>catalog_products</c>).
/// </summary>
public static class ModuleDatabase
{
    /// <summary>
    /// Ids come from <c>IIdGenerator</c>, never from the store: an entity with a key set is new
    /// when added to a tracked collection, not an existing row to update.
    /// </summary>
    public static void UseClientGeneratedKeys(this ModelBuilder modelBuilder)
    {
        foreach (var key in modelBuilder.Model.GetEntityTypes().Select(e => e.FindPrimaryKey()).OfType<Microsoft.EntityFrameworkCore.Metadata.IMutableKey>())
        {
            foreach (var property in key.Properties.Where(p => p.ClrType == typeof(Guid)))
            {
                property.ValueGenerated = Microsoft.EntityFrameworkCore.Metadata.ValueGenerated.Never;
            }
        }
    }

    /// <summary>Call at the end of the SQLite context's <c>OnModelCreating</c>.</summary>
    public static void UseSchemaAsTablePrefix(this ModelBuilder modelBuilder)
    {
        var defaultSchema = modelBuilder.Model.GetDefaultSchema();
        modelBuilder.HasDefaultSchema(null);
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            var schema = entity.GetSchema() ?? defaultSchema;
            if (schema is not null && entity.GetTableName() is { } table && !table.StartsWith(schema + "_", StringComparison.Ordinal))
            {
                entity.SetTableName($"{schema}_{table}");
                entity.SetSchema(null);
            }
        }
    }

    /// <summary>
    /// SQLite cannot compare or order <see cref="DateTimeOffset"/> text; store UTC ticks instead
    /// (every time we write is UTC, so the order of the numbers is the order of the instants).
    /// </summary>
    public static void UseSortableTimes(this ModelConfigurationBuilder configuration)
    {
        configuration.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        configuration.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}
