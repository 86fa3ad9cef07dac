using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace FlashMall.Kernel.Persistence;

/// <summary>
/// Measures every replica's lag in the background (every <c>Database:ReplicaLagCheckInterval</c>,
/// never per query) and points <see cref="ReplicaRouting"/> at the replicas only while every
/// reachable one is within <c>Database:MaxReplicaLag</c>.
/// </summary>
/// <remarks>
/// Lag is measured against the primary, not with <c>now() - pg_last_xact_replay_timestamp()</c>
/// (which grows on an idle primary and stays small on a replica cut off from its primary): each
/// check samples the primary's flushed WAL position with the time; a replica's lag is the age of
/// the oldest sample it has not replayed yet (0 when it has replayed the newest). So a replica
/// whose replay is paused, or whose stream broke, shows a growing lag as soon as the primary
/// writes anything.
/// </remarks>
internal sealed partial class ReplicaLagMonitor : BackgroundService
{
    private readonly PostgresDataSources _dataSources;
    private readonly ReplicaRouting _routing;
    private readonly IOptionsMonitor<DatabaseOptions> _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<ReplicaLagMonitor> _logger;
    private readonly LinkedList<(DateTimeOffset At, NpgsqlLogSequenceNumber Lsn)> _samples = new();

    public ReplicaLagMonitor(
        PostgresDataSources dataSources, ReplicaRouting routing, IOptionsMonitor<DatabaseOptions> options, TimeProvider clock,
        IMeterFactory meters, ILogger<ReplicaLagMonitor> logger)
    {
        _dataSources = dataSources;
        _routing = routing;
        _options = options;
        _clock = clock;
        _logger = logger;
        meters.Create(DatabaseMetrics.MeterName).CreateObservableGauge(
            "flashmall.database.replica.lag",
            () => _routing.Status.Servers.Where(s => s.LagMs is not null)
                .Select(s => new Measurement<double>(s.LagMs!.Value / 1000, new KeyValuePair<string, object?>("server", s.Server))),
            unit: "s",
            description: "Each reachable replica's replay lag behind the primary, as of the last check.");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CheckAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogCheckFailed(_logger, ex);
            }
            try
            {
                await Task.Delay(_options.CurrentValue.ReplicaLagCheckInterval, _clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One round: the primary's position first, then each server.</summary>
    internal async Task CheckAsync(CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        var servers = new List<ReplicaHostStatus>();
        var replicas = new List<(PostgresHost Host, NpgsqlLogSequenceNumber Replayed, bool Paused)>();
        NpgsqlLogSequenceNumber? primaryLsn = null;

        foreach (var host in _dataSources.Hosts)
        {
            try
            {
                await using var connection = await _dataSources.OnlyTo(host).OpenConnectionAsync(cancellationToken);
                await using var command = new NpgsqlCommand(
                    "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_flush_lsn() END", connection);
                bool inRecovery;
                NpgsqlLogSequenceNumber lsn;
                await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                {
                    await reader.ReadAsync(cancellationToken);
                    inRecovery = reader.GetBoolean(0);
                    lsn = reader.IsDBNull(1) ? default : reader.GetFieldValue<NpgsqlLogSequenceNumber>(1);
                }
                if (!inRecovery)
                {
                    primaryLsn = lsn;
                    servers.Add(new ReplicaHostStatus(host.ToString(), true, false, null, null, null, null));
                    continue;
                }
                await using var paused = new NpgsqlCommand("SELECT pg_is_wal_replay_paused()", connection);
                replicas.Add((host, lsn, (bool)(await paused.ExecuteScalarAsync(cancellationToken))!));
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
            {
                servers.Add(new ReplicaHostStatus(host.ToString(), false, null, null, null, null, ex.GetType().Name));
            }
        }

        var now = _clock.GetUtcNow();
        if (primaryLsn is { } current)
        {
            _samples.AddLast((now, current));
            // Enough history to tell any lag up to a few thresholds; older samples only say "more".
            var keep = now - (options.MaxReplicaLag * 4) - options.ReplicaLagCheckInterval;
            while (_samples.Count > 2 && _samples.First!.Value.At < keep)
            {
                _samples.RemoveFirst();
            }
        }

        var lagging = new List<string>();
        foreach (var (host, replayed, paused) in replicas)
        {
            double? lagMs = null;
            long? lagBytes = null;
            if (primaryLsn is { } primary)
            {
                lagBytes = replayed >= primary ? 0 : (long)(ulong)(primary - replayed);
                lagMs = LagOf(replayed, now).TotalMilliseconds;
                if (lagMs > options.MaxReplicaLag.TotalMilliseconds)
                {
                    lagging.Add($"{host} {lagMs:F0} ms");
                }
            }
            servers.Add(new ReplicaHostStatus(host.ToString(), true, true, lagMs, lagBytes, paused, null));
        }

        string reason;
        bool toReplicas;
        if (replicas.Count == 0)
        {
            (toReplicas, reason) = (false, "no replica answers");
        }
        else if (lagging.Count > 0)
        {
            (toReplicas, reason) = (false, $"replica lag over {options.MaxReplicaLag.TotalMilliseconds:F0} ms: {string.Join(", ", lagging)}");
        }
        else if (primaryLsn is null)
        {
            (toReplicas, reason) = (true, "primary unreachable: lag unknown, replicas serve reads");
        }
        else
        {
            (toReplicas, reason) = (true, $"{replicas.Count} replica(s) within {options.MaxReplicaLag.TotalMilliseconds:F0} ms");
        }

        var before = _routing.Status;
        _routing.Status = new ReplicaStatus(toReplicas, reason, now, [.. servers.OrderBy(s => s.Server, StringComparer.Ordinal)]);
        if (before.ReadsGoToReplicas != toReplicas || before.CheckedAt is null)
        {
            LogRouting(_logger, toReplicas ? "replicas" : "the primary", reason);
        }
    }

    /// <summary>The age of the oldest primary position <paramref name="replayed"/> has not reached (zero when it has them all).</summary>
    private TimeSpan LagOf(NpgsqlLogSequenceNumber replayed, DateTimeOffset now)
    {
        DateTimeOffset? oldestMissing = null;
        for (var node = _samples.Last; node is not null; node = node.Previous)
        {
            if (replayed >= node.Value.Lsn)
            {
                break;
            }
            oldestMissing = node.Value.At;
        }
        return oldestMissing is { } at ? now - at : TimeSpan.Zero;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lag-tolerant reads now go to {Target}: {Reason}")]
    private static partial void LogRouting(ILogger logger, string target, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The replica lag check failed")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
