using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FlashMall.Kernel.Persistence;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary><c>Database:*</c>: which relational store every module uses.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary><c>Sqlite</c> or <c>Postgres</c> (text, so a wrong value gets a validation message, not a binder crash).</summary>
    public string Provider { get; set; } = nameof(DatabaseProvider.Sqlite);

    public DatabaseProvider ProviderKind => ParseProvider(Provider) ?? DatabaseProvider.Sqlite;

    /// <summary>
    /// PostgreSQL with replicas: when a reachable replica's replay is further behind the primary
    /// than this, lag-tolerant reads go to the primary until it catches up.
    /// </summary>
    public TimeSpan MaxReplicaLag { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the background check measures each replica's lag (never per query).</summary>
    public TimeSpan ReplicaLagCheckInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A command that runs at least this long is logged, counted and kept in the node's slow-query ring.</summary>
    public TimeSpan SlowQueryThreshold { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How many slow queries each node keeps in memory (the oldest drop out).</summary>
    public int SlowQueryLogSize { get; set; } = 500;

    /// <summary>
    /// Applies pending migrations at start-up (default). Off where <c>flashmall release deploy</c> (or
    /// <c>flashmall db migrate</c>) runs them: expand-only ones before the switch, destructive ones only
    /// with permission after the health gate — never implicitly by whichever node starts first.
    /// </summary>
    public bool MigrateOnStart { get; set; } = true;

    public static DatabaseProvider? ParseProvider(string? value) =>
        Enum.TryParse<DatabaseProvider>(value, ignoreCase: true, out var provider) && Enum.IsDefined(provider) && !int.TryParse(value, out _)
            ? provider
            : null;
}

/// <summary><c>Data:*</c>: the folder that holds the SQLite file, indexes, local media and generated keys.</summary>
public sealed class DataOptions
{
    public const string SectionName = "Data";

    [Required(AllowEmptyStrings = false)]
    public string Directory { get; set; } = "./data";

    public string FullPath => Path.GetFullPath(Directory);
}

[OptionsValidator]
public sealed partial class DataOptionsValidator : IValidateOptions<DataOptions>;
