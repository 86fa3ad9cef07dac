using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FlashMall.Kernel.Persistence;

/// <summary>One PostgreSQL server of the configured set (<c>host:port</c>).</summary>
public sealed record PostgresHost(string Host, int Port)
{
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// The PostgreSQL servers a node talks to: <c>ConnectionStrings:Postgres</c> may list several
/// hosts (<c>Host=primary,replica1,replica2</c>, ports as <c>host:port</c>); the hosts of the
/// optional <c>ConnectionStrings:PostgresReplicas</c> are added to them (its other settings are
/// ignored: credentials and database come from the main string). Which host is the primary is
/// not configured but asked (<c>pg_is_in_recovery()</c>), so a failover needs no config change.
/// </summary>
public static class PostgresTopology
{
    public const string ReplicasConnectionName = "PostgresReplicas";

    /// <summary>The main connection string with the replicas' hosts added, or <see langword="null"/> when only one server is configured.</summary>
    public static NpgsqlConnectionStringBuilder? MultiHost(IConfiguration configuration)
    {
        var main = configuration.GetConnectionString(DatabaseRegistration.PostgresConnectionName);
        if (string.IsNullOrWhiteSpace(main))
        {
            return null;
        }
        var builder = new NpgsqlConnectionStringBuilder(main);
        var hosts = Hosts(builder).ToList();
        if (configuration.GetConnectionString(ReplicasConnectionName) is { Length: > 0 } replicas)
        {
            hosts.AddRange(Hosts(new NpgsqlConnectionStringBuilder(replicas) { Port = builder.Port }).Where(h => !hosts.Contains(h)));
        }
        if (hosts.Count < 2)
        {
            return null;
        }
        builder.Host = string.Join(',', hosts);
        builder.Port = NpgsqlConnection.DefaultPort;
        return builder;
    }

    /// <summary>Each host of a (possibly multi-host) connection string, with its port.</summary>
    public static IEnumerable<PostgresHost> Hosts(NpgsqlConnectionStringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var entry in (builder.Host ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            yield return Parse(entry, builder.Port);
        }
    }

    private static PostgresHost Parse(string entry, int defaultPort)
    {
        if (entry.StartsWith('['))
        {
            var close = entry.IndexOf(']', StringComparison.Ordinal);
            var host = entry[1..close];
            return entry.Length > close + 2 && entry[close + 1] == ':' ? new(host, int.Parse(entry[(close + 2)..], CultureInfo.InvariantCulture)) : new(host, defaultPort);
        }
        var colon = entry.LastIndexOf(':');
        return colon > 0 && entry.IndexOf(':', StringComparison.Ordinal) == colon && int.TryParse(entry[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? new(entry[..colon], port)
            : new(entry, defaultPort);
    }
}

/// <summary>
/// The Npgsql multi-host data source over the primary and its streaming replicas (registered only
/// when replicas are configured): writes and read-your-writes reads take <see cref="Primary"/>,
/// lag-tolerant reads <see cref="PreferStandby"/> (a replica, or the primary when none answers).
/// Both share the per-host connection pools.
/// </summary>
public sealed class PostgresDataSources : IAsyncDisposable, IDisposable
{
    private readonly NpgsqlMultiHostDataSource _multiHost;
    private readonly Dictionary<PostgresHost, NpgsqlDataSource> _single = [];

    public PostgresDataSources(NpgsqlConnectionStringBuilder multiHost)
    {
        ArgumentNullException.ThrowIfNull(multiHost);
        Hosts = [.. PostgresTopology.Hosts(multiHost)];
        _multiHost = new NpgsqlDataSourceBuilder(multiHost.ConnectionString).BuildMultiHost();
        Primary = _multiHost.WithTargetSession(TargetSessionAttributes.Primary);
        PreferStandby = _multiHost.WithTargetSession(TargetSessionAttributes.PreferStandby);
        foreach (var host in Hosts)
        {
            // The lag check's own small pools, one server each, quick to give up on a dead one.
            var single = new NpgsqlConnectionStringBuilder(multiHost.ConnectionString)
            {
                Host = host.Host,
                Port = host.Port,
                TargetSessionAttributes = null,
                MaxPoolSize = 2,
                MinPoolSize = 0,
                Timeout = 3,
                CommandTimeout = 3,
                ApplicationName = "flashmall-replica-lag",
            };
            _single[host] = NpgsqlDataSource.Create(single);
        }
    }

    public IReadOnlyList<PostgresHost> Hosts { get; }

    /// <summary>Connections to the server that is not in recovery.</summary>
    public NpgsqlDataSource Primary { get; }

    /// <summary>Connections to a standby while one answers, else to the primary.</summary>
    public NpgsqlDataSource PreferStandby { get; }

    /// <summary>A connection to exactly <paramref name="host"/> (for the lag check).</summary>
    public NpgsqlDataSource OnlyTo(PostgresHost host) => _single[host];

    public async ValueTask DisposeAsync()
    {
        foreach (var single in _single.Values)
        {
            await single.DisposeAsync();
        }
        await _multiHost.DisposeAsync();
    }

    public void Dispose()
    {
        foreach (var single in _single.Values)
        {
            single.Dispose();
        }
        _multiHost.Dispose();
    }
}

/// <summary>Where lag-tolerant reads go right now: set by <see cref="ReplicaLagMonitor"/>, read per context creation.</summary>
public sealed class ReplicaRouting
{
    private volatile ReplicaStatus _status = ReplicaStatus.NotChecked;

    /// <summary>False until the first check found a replica within the lag threshold.</summary>
    public bool ReadsGoToReplicas => _status.ReadsGoToReplicas;

    public ReplicaStatus Status
    {
        get => _status;
        internal set => _status = value;
    }
}

/// <summary>The last lag check: where reads go, why, and each server's state.</summary>
public sealed record ReplicaStatus(bool ReadsGoToReplicas, string Reason, DateTimeOffset? CheckedAt, IReadOnlyList<ReplicaHostStatus> Servers)
{
    public static readonly ReplicaStatus NotChecked = new(false, "not checked yet", null, []);
}

/// <summary>One server as the lag check last saw it; <c>LagMs</c> is null for the primary or when unknown.</summary>
public sealed record ReplicaHostStatus(string Server, bool Reachable, bool? InRecovery, double? LagMs, long? LagBytes, bool? ReplayPaused, string? Error);

/// <summary>
/// Builds a module context over <see cref="PostgresDataSources.PreferStandby"/>: no tracking, the
/// same model and interceptors as the module's own context. Registered per module when replicas are configured.
/// </summary>
internal sealed class ReplicaContextFactory<TContext>(Func<IServiceProvider, TContext> create)
    where TContext : DbContext
{
    public TContext Create(IServiceProvider services) => create(services);

    public static ReplicaContextFactory<TContext> For<TPostgres>(IServiceProvider root, string schema)
        where TPostgres : TContext
    {
        var builder = new DbContextOptionsBuilder<TPostgres>()
            .UseApplicationServiceProvider(root);
        // A replica that went away leaves broken connections in its pool: the read is tried again
        // (at once, then after 100 ms), and Npgsql, which marked the host offline, takes the primary.
        // 57P01: the server ended the session (a fast shutdown).
        builder.UseModulePostgres(root.GetRequiredService<PostgresDataSources>().PreferStandby, schema,
                npgsql => npgsql.EnableRetryOnFailure(3, TimeSpan.FromMilliseconds(100), ["57P01"]))
            .AddInterceptors(root.GetServices<IInterceptor>())
            .UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking);
        var options = builder.Options;
        return new ReplicaContextFactory<TContext>(services => ActivatorUtilities.CreateInstance<TPostgres>(services, options));
    }
}

/// <summary>
/// The module context for reads that tolerate replica lag (browse lists, feeds, the search
/// fallback: see docs/ARCHITECTURE.md for the list and the reasons). With PostgreSQL and replicas
/// within <c>Database:MaxReplicaLag</c> it is a separate, non-tracking context on a streaming
/// replica; otherwise (SQLite, one server, replicas lagging or down) it is the request's own
/// context on the primary. Never write through it, and never use it for a read that must see
/// the caller's own just-made change.
/// </summary>
public sealed class ReadReplica<TContext>(IServiceProvider services, ReplicaRouting routing) : IDisposable, IAsyncDisposable
    where TContext : DbContext
{
    private TContext? _db;
    private bool _owned;

    /// <summary>Created on first use, where the routing points at that moment.</summary>
    public TContext Db => _db ??= Create();

    /// <summary>True when <see cref="Db"/> is a replica context (not the primary's).</summary>
    public bool OnReplica => _owned;

    private TContext Create()
    {
        if (routing.ReadsGoToReplicas && services.GetService<ReplicaContextFactory<TContext>>() is { } factory)
        {
            _owned = true;
            return factory.Create(services);
        }
        return services.GetRequiredService<TContext>();
    }

    public void Dispose()
    {
        if (_owned)
        {
            _db?.Dispose();
        }
    }

    public ValueTask DisposeAsync() => _owned && _db is not null ? _db.DisposeAsync() : ValueTask.CompletedTask;
}
