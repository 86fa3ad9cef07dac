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
        .UseModuleDefaults();

    public static DbContextOptionsBuilder UseModulePostgres(this DbContextOptionsBuilder options, string? connectionString, string schema) => options
        .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations", schema))
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
