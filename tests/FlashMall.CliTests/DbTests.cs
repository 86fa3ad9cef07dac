using FlashMall.CliTests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FlashMall.CliTests;

/// <summary><c>flashmall db</c> on a fresh database of each provider.</summary>
public sealed class DbTests
{
    [Fact]
    public async Task Sqlite_status_dry_run_migrate_destructive_refusal_and_newer_database_refusal()
    {
        using var temp = new TempDir();
        string[] target = ["--provider", "Sqlite", "--data-dir", temp["data"]];
        await ScenarioAsync(target, async sql =>
        {
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(temp["data"], "flashmall.db")};Pooling=false");
            await connection.OpenAsync();
            await using var command = new SqliteCommand(sql.Replace("ops.__ef_migrations", "__ef_migrations_ops", StringComparison.Ordinal), connection);
            return await command.ExecuteScalarAsync();
        });
    }

    [PostgresFact]
    public async Task Postgres_status_dry_run_migrate_destructive_refusal_and_newer_database_refusal()
    {
        var database = $"flashmall_cli_{Guid.NewGuid():N}";
        var admin = new NpgsqlConnectionStringBuilder(PostgresFactAttribute.ConnectionString) { Pooling = false };
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = database }.ConnectionString;
        try
        {
            await ScenarioAsync(["--provider", "Postgres", "--connection", connectionString], async sql =>
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(sql, connection);
                return await command.ExecuteScalarAsync();
            });
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(admin.ConnectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static async Task ScenarioAsync(string[] target, Func<string, Task<object?>> scalar)
    {
        // A fresh database: everything pending (exit 5), and the JSON says what.
        var status = await Tool.RunAsync(["db", "status", "--json", .. target]);
        Assert.True(status.ExitCode == 5, status.ToString());
        var known = status.Json.GetProperty("pending").GetInt32();
        Assert.True(known >= 20, status.ToString());
        Assert.Contains(status.Json.GetProperty("modules").EnumerateArray(), m => m.GetProperty("module").GetString() == "ops");

        // --dry-run prints the SQL and changes nothing.
        var dry = await Tool.RunAsync(["db", "migrate", "--dry-run", .. target]);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains("CREATE TABLE", dry.Stdout, StringComparison.Ordinal);
        Assert.Contains("emergency", dry.Stdout, StringComparison.Ordinal);
        Assert.Equal(known, (await Tool.RunAsync(["db", "status", "--json", .. target])).Json.GetProperty("pending").GetInt32());

        // migrate: every migration once, each printed with its duration.
        var migrate = await Tool.RunAsync(["db", "migrate", "--json", .. target]);
        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        var applied = migrate.Json.GetProperty("applied").EnumerateArray().ToList();
        Assert.Equal(known, applied.Count);
        Assert.All(applied, a => Assert.True(a.GetProperty("milliseconds").GetDouble() > 0));
        Assert.Matches(@"applied ops\s+\d+_EmergencyChanges\s+[\d.]+ ms", migrate.Stderr);
        var upToDate = await Tool.RunAsync(["db", "status", "--json", .. target]);
        Assert.True(upToDate.ExitCode == 0, upToDate.ToString());
        Assert.Equal(0, upToDate.Json.GetProperty("pending").GetInt32());
        var again = await Tool.RunAsync(["db", "migrate", "--json", .. target]);
        Assert.Equal(0, again.ExitCode);
        Assert.Empty(again.Json.GetProperty("applied").EnumerateArray());

        // Reverting drops columns: refused (exit 3) without --allow-destructive, nothing changed.
        var opsMigrations = upToDate.Json.GetProperty("modules").EnumerateArray().Single(m => m.GetProperty("module").GetString() == "ops")
            .GetProperty("applied").EnumerateArray().Select(e => e.GetString()!).ToList();
        var initial = opsMigrations.Single(m => m.EndsWith("_Initial", StringComparison.Ordinal));
        var refused = await Tool.RunAsync(["db", "rollback-to", "ops", initial, .. target]);
        Assert.True(refused.ExitCode == 3, refused.ToString());
        Assert.Contains("DropColumn", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await Tool.RunAsync(["db", "status", "--json", .. target])).Json.GetProperty("pending").GetInt32());
        var reverted = await Tool.RunAsync(["db", "rollback-to", "ops", initial, "--allow-destructive", "--json", .. target]);
        Assert.True(reverted.ExitCode == 0, reverted.ToString());
        var afterRevert = await Tool.RunAsync(["db", "status", "--json", .. target]);
        Assert.Equal(5, afterRevert.ExitCode);
        Assert.Equal(1, afterRevert.Json.GetProperty("pending").GetInt32());
        var reapply = await Tool.RunAsync(["db", "migrate", "--json", .. target]);
        Assert.Equal(0, reapply.ExitCode);
        Assert.EndsWith("_EmergencyChanges", Assert.Single(reapply.Json.GetProperty("applied").EnumerateArray()).GetProperty("migration").GetString(), StringComparison.Ordinal);

        // A database with a migration the tool does not know is newer than the tool: refused (exit 4), untouched.
        await scalar("INSERT INTO ops.__ef_migrations (migration_id, product_version) VALUES ('29990101000000_FromTheFuture', '99.0.0')");
        var newer = await Tool.RunAsync(["db", "migrate", .. target]);
        Assert.True(newer.ExitCode == 4, newer.ToString());
        Assert.Contains("29990101000000_FromTheFuture", newer.Stderr, StringComparison.Ordinal);
        Assert.Equal(4, (await Tool.RunAsync(["db", "status", .. target])).ExitCode);
        Assert.Equal(4, (await Tool.RunAsync(["db", "rollback-to", "ops", initial, "--allow-destructive", .. target])).ExitCode);
        Assert.Equal(1L, Convert.ToInt64(await scalar("SELECT COUNT(*) FROM ops.__ef_migrations WHERE migration_id LIKE '%EmergencyChanges'"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Bad_command_lines_exit_2_and_every_command_has_help()
    {
        Assert.Equal(2, (await Tool.RunAsync("db", "nonsense")).ExitCode);
        Assert.Equal(2, (await Tool.RunAsync("db", "migrate", "--no-such-option")).ExitCode);
        Assert.Equal(2, (await Tool.RunAsync("db", "rollback-to", "ops")).ExitCode);
        foreach (var command in new[] { "db status", "db migrate", "db rollback-to", "db seed", "config diff", "config propose", "config apply",
            "config approve", "config pending", "config history", "release package", "release deploy", "release rollback", "release list", "search rebuild" })
        {
            var help = await Tool.RunAsync([.. command.Split(' '), "--help"]);
            Assert.True(help.ExitCode == 0, command + ": " + help);
            Assert.Contains("Usage:", help.Stdout, StringComparison.Ordinal);
            Assert.Contains("--json", help.Stdout, StringComparison.Ordinal);
        }
    }
}
