using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FlashMall.Kernel.Persistence;

public static class DatabaseRegistration
{
    public const string PostgresConnectionName = "Postgres";
    public const string SqliteFileName = "flashmall.db";

    /// <summary>Health checks with this tag decide <c>/health/ready</c>.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Binds and validates <c>Database:*</c> and <c>Data:*</c>; a bad value stops start-up.</summary>
    public static IHostApplicationBuilder AddDatabase(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.SectionName).ValidateOnStart();
        builder.Services.AddOptions<DataOptions>().BindConfiguration(DataOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DatabaseOptions>>(new DatabaseOptionsValidator(builder.Configuration));
        builder.Services.AddSingleton<IValidateOptions<DataOptions>, DataOptionsValidator>();
        builder.Services.AddSingleton<DatabaseMigrator>();

        // Slow-query monitoring on every module context (SQLite and PostgreSQL): every IInterceptor
        // in the container is added to each context's options.
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<SlowQueryLog>();
        builder.Services.AddSingleton<SlowQueryInterceptor>();
        builder.Services.AddSingleton<IInterceptor>(sp => sp.GetRequiredService<SlowQueryInterceptor>());

        // Read/write split: only with PostgreSQL and more than one server configured.
        builder.Services.AddSingleton<ReplicaRouting>();
        if (UsesReplicas(builder.Configuration, out var multiHost))
        {
            builder.Services.AddSingleton(_ => new PostgresDataSources(multiHost));
            builder.Services.AddHostedService<ReplicaLagMonitor>();
        }
        return builder;
    }

    /// <summary>
    /// Registers a module's DbContext on the configured provider. Its options are built once
    /// (singleton); building them per request was most of the cost of a cached catalog read. <typeparamref name="TSqlite"/> and
    /// <typeparamref name="TPostgres"/> are the provider-specific subclasses that own each
    /// provider's migrations (EF Core's "one context type per provider" pattern).
    /// </summary>
    public static IHostApplicationBuilder AddModuleDbContext<TContext, TSqlite, TPostgres>(this IHostApplicationBuilder builder, string schema)
        where TContext : DbContext
        where TSqlite : TContext
        where TPostgres : TContext
    {
        // Read before the container exists; a wrong value falls back here and fails validation at start.
        var provider = DatabaseOptions.ParseProvider(builder.Configuration[$"{DatabaseOptions.SectionName}:{nameof(DatabaseOptions.Provider)}"])
            ?? DatabaseProvider.Sqlite;
        var configuration = builder.Configuration;

        if (provider == DatabaseProvider.Postgres)
        {
            // With replicas the context writes through the multi-host data source's primary side
            // (a plain multi-host connection string would take whichever server answers first).
            builder.Services.AddDbContext<TContext, TPostgres>(
                (services, options) => (services.GetService<PostgresDataSources>() is { } dataSources
                        ? options.UseModulePostgres(dataSources.Primary, schema)
                        : options.UseModulePostgres(configuration.GetConnectionString(PostgresConnectionName), schema))
                    .AddInterceptors(services.GetServices<IInterceptor>()),
                optionsLifetime: ServiceLifetime.Singleton);
            if (UsesReplicas(configuration, out _))
            {
                builder.Services.AddSingleton(services => ReplicaContextFactory<TContext>.For<TPostgres>(services, schema));
            }
        }
        else
        {
            builder.Services.AddDbContext<TContext, TSqlite>(
                (services, options) => options.UseModuleSqlite(SqliteConnectionString(services.GetRequiredService<IOptions<DataOptions>>().Value), schema)
                    .AddInterceptors(services.GetServices<IInterceptor>()),
                optionsLifetime: ServiceLifetime.Singleton);
        }
        builder.Services.AddScoped<ReadReplica<TContext>>();

        builder.Services.AddSingleton(new ModuleDbContextRegistration(typeof(TContext), schema));
        builder.Services.AddHealthChecks().AddDbContextCheck<TContext>($"db-{schema}", tags: [ReadyTag]);
        return builder;
    }

    /// <summary>PostgreSQL with several servers (<c>Host=a,b</c> or <c>ConnectionStrings:PostgresReplicas</c>): reads that tolerate lag may go to replicas.</summary>
    public static bool UsesReplicas(IConfiguration configuration, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NpgsqlConnectionStringBuilder? multiHost)
    {
        multiHost = null;
        if (DatabaseOptions.ParseProvider(configuration[$"{DatabaseOptions.SectionName}:{nameof(DatabaseOptions.Provider)}"]) != DatabaseProvider.Postgres)
        {
            return false;
        }
        try
        {
            multiHost = PostgresTopology.MultiHost(configuration);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            return false; // the options validation reports the bad connection string
        }
        return multiHost is not null;
    }

    public static string SqliteConnectionString(DataOptions data) => new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(data.FullPath, SqliteFileName),
        Pooling = true,
        // Writers queue behind each other for up to this long instead of failing with SQLITE_BUSY.
        DefaultTimeout = 30,
    }.ToString();

    /// <summary>The connection string with its password removed, for logs and health output.</summary>
    public static string Describe(DatabaseProvider provider, IConfiguration configuration, DataOptions data)
    {
        if (provider == DatabaseProvider.Sqlite)
        {
            return $"SQLite at {Path.Combine(data.FullPath, SqliteFileName)}";
        }
        var postgres = PostgresTopology.MultiHost(configuration) ?? new NpgsqlConnectionStringBuilder(configuration.GetConnectionString(PostgresConnectionName));
        return $"PostgreSQL host={postgres.Host} port={postgres.Port} database={postgres.Database} user={postgres.Username}";
    }
}

public sealed record ModuleDbContextRegistration(Type ContextType, string Schema);

internal sealed class DatabaseOptionsValidator(IConfiguration configuration) : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        if (DatabaseOptions.ParseProvider(options.Provider) is not { } provider)
        {
            return ValidateOptionsResult.Fail($"Database:Provider must be Sqlite or Postgres, not '{options.Provider}'.");
        }
        if (options.MaxReplicaLag <= TimeSpan.Zero || options.ReplicaLagCheckInterval < TimeSpan.FromMilliseconds(50)
            || options.ReplicaLagCheckInterval > TimeSpan.FromMinutes(1))
        {
            return ValidateOptionsResult.Fail("Database:MaxReplicaLag must be positive and Database:ReplicaLagCheckInterval from 50 ms to 1 minute.");
        }
        if (options.SlowQueryThreshold < TimeSpan.Zero || options.SlowQueryLogSize is < 1 or > 100_000)
        {
            return ValidateOptionsResult.Fail("Database:SlowQueryThreshold must not be negative and Database:SlowQueryLogSize must be from 1 to 100000.");
        }
        if (provider == DatabaseProvider.Postgres)
        {
            var connectionString = configuration.GetConnectionString(DatabaseRegistration.PostgresConnectionName);
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                return ValidateOptionsResult.Fail("Database:Provider is Postgres but ConnectionStrings:Postgres is empty.");
            }
            try
            {
                _ = new NpgsqlConnectionStringBuilder(connectionString);
            }
            catch (ArgumentException ex)
            {
                // The message names the bad keyword, never the value (it may hold the password).
                return ValidateOptionsResult.Fail($"ConnectionStrings:Postgres is not a valid Npgsql connection string: {ex.GetType().Name}.");
            }
            if (configuration.GetConnectionString(PostgresTopology.ReplicasConnectionName) is { Length: > 0 } replicas)
            {
                try
                {
                    _ = PostgresTopology.Hosts(new NpgsqlConnectionStringBuilder(replicas)).ToList();
                }
                catch (Exception ex) when (ex is ArgumentException or FormatException)
                {
                    return ValidateOptionsResult.Fail($"ConnectionStrings:PostgresReplicas is not a valid Npgsql connection string: {ex.GetType().Name}.");
                }
            }
        }
        return ValidateOptionsResult.Success;
    }
}
