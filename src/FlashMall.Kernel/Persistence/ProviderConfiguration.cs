using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;

namespace FlashMall.Kernel.Persistence;

/// <summary>How a module context is configured on each provider: used at run time and by the migration tooling alike.</summary>
public static class ProviderConfiguration
{
    public static DbContextOptionsBuilder UseModuleSqlite(this DbContextOptionsBuilder options, string connectionString, string schema) => options
        .UseSqlite(connectionString, sqlite => sqlite.MigrationsHistoryTable($"__ef_migrations_{schema}"))
        .UseSnakeCaseNamingConvention()
        .UseModuleDefaults()
        .AddInterceptors(SqliteBusyTimeout.Instance);

    public static DbContextOptionsBuilder UseModulePostgres(this DbContextOptionsBuilder options, string? connectionString, string schema) => options
        .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations", schema))
        .UseSnakeCaseNamingConvention()
        .UseModuleDefaults();

    /// <summary>The same over a data source: the primary or prefer-standby side of the multi-host one (see <see cref="PostgresDataSources"/>).</summary>
    public static DbContextOptionsBuilder UseModulePostgres(
        this DbContextOptionsBuilder options, Npgsql.NpgsqlDataSource dataSource, string schema,
        Action<Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure.NpgsqlDbContextOptionsBuilder>? configure = null) => options
        .UseNpgsql(dataSource, npgsql =>
        {
            npgsql.MigrationsHistoryTable("__ef_migrations", schema);
            configure?.Invoke(npgsql);
        })
        .UseSnakeCaseNamingConvention()
        .UseModuleDefaults();
}

internal static class ModuleDefaults
{
    /// <summary>
    /// Refusals such as a duplicate key are expected outcomes the endpoint answers; unexpected
    /// failures are logged once, with the request, by the exception handler.
    /// </summary>
    public static DbContextOptionsBuilder UseModuleDefaults(this DbContextOptionsBuilder options) => options
        .AddInterceptors(AfterCommitInterceptor.Instance, Messaging.OutboxSaveInterceptor.Instance)
        .ConfigureWarnings(warnings => warnings.Log(
            (CoreEventId.SaveChangesFailed, LogLevel.Debug),
            (RelationalEventId.CommandError, LogLevel.Debug)));
}

/// <summary>Options for <c>dotnet ef</c> (design time), where no host or database is needed.</summary>
public static class DesignTime
{
    public static DbContextOptions<TContext> Sqlite<TContext>(string schema)
        where TContext : DbContext =>
        (DbContextOptions<TContext>)new DbContextOptionsBuilder<TContext>().UseModuleSqlite("Data Source=design-time.db", schema).Options;

    public static DbContextOptions<TContext> Postgres<TContext>(string schema)
        where TContext : DbContext =>
        (DbContextOptions<TContext>)new DbContextOptionsBuilder<TContext>().UseModulePostgres("Host=localhost;Database=design_time", schema).Options;
}

/// <summary>
/// Lets SQLite itself wait for a lock held by another connection of the node (its busy handler
/// sleeps 1, 2, 5 … ms), instead of failing at once and leaving the retry to Microsoft.Data.Sqlite,
/// whose loop sleeps 150 ms: a lease renewal colliding with the reservation writer cost every
/// waiting buyer those 150 ms.
/// </summary>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    public static readonly SqliteBusyTimeout Instance = new();

    /// <summary>
    /// Also maps up to 256 MB of the file (<c>mmap_size</c>): pages are read from the OS page
    /// cache in place instead of copied by <c>pread</c> into each connection's small page cache —
    /// the reservation rows' random-keyed index is read all over during a sale.
    /// </summary>
    private const string Pragma = "PRAGMA busy_timeout = 10000; PRAGMA mmap_size = 268435456;";

    public override void ConnectionOpened(System.Data.Common.DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(System.Data.Common.DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
