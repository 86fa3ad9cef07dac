using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FlashMall.ApiTests.Infrastructure;

/// <summary>The streaming replica test.sh starts next to its PostgreSQL (PostgreSQL run only).</summary>
public static class ReplicaEnvironment
{
    /// <summary>A connection string to the replica's <c>flashmall</c> database (read-only), or null.</summary>
    public static string? Replica =>
        TestEnvironment.UsesPostgres && Environment.GetEnvironmentVariable("FLASHMALL_TEST_PG_REPLICA") is { Length: > 0 } replica ? replica : null;

    /// <summary>A script taking <c>stop</c> or <c>start</c> for that replica, or null.</summary>
    public static string? Control =>
        Environment.GetEnvironmentVariable("FLASHMALL_TEST_PG_REPLICA_CTL") is { Length: > 0 } script ? script : null;

    public static async Task ControlAsync(string verb)
    {
        using var process = Process.Start(new ProcessStartInfo(Control!, verb) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"replica {verb} failed: {await output}{await error}");
    }
}

/// <summary>A fact that needs the PostgreSQL streaming replica test.sh starts; skipped elsewhere.</summary>
public sealed class PostgresReplicaFactAttribute : FactAttribute
{
    public PostgresReplicaFactAttribute()
    {
        if (ReplicaEnvironment.Replica is null || ReplicaEnvironment.Control is null)
        {
            Skip = "Needs PostgreSQL with a streaming replica (test.sh sets FLASHMALL_TEST_PG_REPLICA and FLASHMALL_TEST_PG_REPLICA_CTL on the PostgreSQL run).";
        }
    }
}

/// <summary>
/// A node whose <c>ConnectionStrings:Postgres</c> lists the primary and the replica
/// (<c>Host=primary:port,replica:port</c>), with a fast lag check, recording which server ran each command.
/// </summary>
public sealed class ReplicaFactory : FlashMallFactory
{
    public ServedByRecorder Served { get; } = new();

    /// <summary>A connection string to this node's database on the replica.</summary>
    /// <remarks>Unpooled: a test stops and starts the replica, which would leave broken connections in a pool.</remarks>
    public string ReplicaConnectionString => new NpgsqlConnectionStringBuilder(ReplicaEnvironment.Replica!)
    {
        Database = new NpgsqlConnectionStringBuilder(PostgresConnectionString).Database,
        Pooling = false,
    }.ToString();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (ReplicaEnvironment.Replica is null)
        {
            return;
        }
        var primary = new NpgsqlConnectionStringBuilder(PostgresConnectionString);
        var replica = new NpgsqlConnectionStringBuilder(ReplicaEnvironment.Replica);
        Settings["ConnectionStrings:Postgres"] = new NpgsqlConnectionStringBuilder(PostgresConnectionString)
        {
            Host = $"{primary.Host}:{primary.Port},{replica.Host}:{replica.Port}",
            // A replica that was down is tried again after 1 s (default 10 s): the tests stop and start it.
            HostRecheckSeconds = 1,
        }.ToString();
        Settings["Database:ReplicaLagCheckInterval"] = "00:00:00.2";
        Settings["Database:MaxReplicaLag"] = "00:00:01";
        ConfigureTestServices = services => services.AddSingleton<IInterceptor>(Served);
    }

    /// <summary>The node's replica view (<c>GET /api/admin/database/replicas</c>).</summary>
    public async Task<JsonElement> ReplicasAsync()
    {
        using var admin = await AdminClientAsync();
        return await admin.GetFromJsonAsync<JsonElement>("/api/admin/database/replicas");
    }

    /// <summary>Waits until lag-tolerant reads go to the replicas (<paramref name="toReplicas"/>) or to the primary.</summary>
    public async Task<JsonElement> WaitForRoutingAsync(bool toReplicas, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        JsonElement view;
        do
        {
            view = await ReplicasAsync();
            if (view.GetProperty("readsGoToReplicas").GetBoolean() == toReplicas)
            {
                return view;
            }
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        throw new Xunit.Sdk.XunitException($"Reads did not go to {(toReplicas ? "the replicas" : "the primary")}: {view}");
    }

    /// <summary>Waits until the replica has replayed a row the primary committed (<paramref name="sql"/> returns a count above 0).</summary>
    public async Task WaitOnReplicaAsync(string sql, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        await using var connection = await OpenOnReplicaAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        while ((long)(await command.ExecuteScalarAsync())! == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The replica did not replay: {sql}");
            await Task.Delay(50);
        }
    }

    /// <summary>Runs <paramref name="sql"/> on this node's database on the replica (e.g. <c>pg_wal_replay_pause()</c>).</summary>
    public async Task OnReplicaAsync(string sql)
    {
        await using var connection = await OpenOnReplicaAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A connection to this node's database on the replica, once the replica has replayed its creation.</summary>
    private async Task<NpgsqlConnection> OpenOnReplicaAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var connection = new NpgsqlConnection(ReplicaConnectionString);
            try
            {
                await connection.OpenAsync();
                return connection;
            }
            catch (PostgresException ex) when (ex.SqlState == "3D000" && DateTime.UtcNow < deadline)
            {
                await connection.DisposeAsync();
                await Task.Delay(100); // CREATE DATABASE not replayed yet
            }
        }
    }
}
