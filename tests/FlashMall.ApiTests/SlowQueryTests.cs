using System.Diagnostics.Metrics;
using System.Net;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FlashMall.ApiTests;

/// <summary>A node that keeps every command as slow (<c>Database:SlowQueryThreshold=0</c>).</summary>
public sealed class EverySlowQueryFactory : FlashMallFactory
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Database:SlowQueryThreshold"] = "00:00:00";
        Settings["Database:SlowQueryLogSize"] = "5000";
    }
}

/// <summary>Slow-query monitoring on both providers: the ring behind <c>GET /api/admin/slow-queries</c>, the log line and the metrics.</summary>
public sealed class SlowQueryTests(EverySlowQueryFactory node) : IClassFixture<EverySlowQueryFactory>
{
    [Fact]
    public async Task A_slow_query_is_listed_with_duration_endpoint_and_trace_id_and_no_parameter_values()
    {
        var meters = node.Services.GetRequiredService<IMeterFactory>();
        long durations = 0, slow = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Meter.Name == DatabaseMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) =>
        {
            if (instrument.Name == DatabaseMetrics.CommandDuration)
            {
                Interlocked.Increment(ref durations);
            }
        });
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == DatabaseMetrics.SlowCommands)
            {
                Interlocked.Add(ref slow, value);
            }
        });
        listener.Start();

        var categoryId = await node.CategoryAsync();
        var merchandiser = await node.NewUserAsync("merchandiser");
        var product = (await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(categoryId))).GetProperty("id").GetString()!;

        using var anonymous = node.CreateClient();
        var (trace, header) = TraceContext.New();
        await (await anonymous.GetTracedAsync($"/api/products/{product}", header)).JsonAsync();

        using var admin = await node.AdminClientAsync();
        var page = await (await admin.GetAsync($"/api/admin/slow-queries?pageSize=100&traceId={trace}")).JsonAsync();
        Assert.Equal(0, page.GetProperty("thresholdMs").GetDouble());
        Assert.Equal(5000, page.GetProperty("capacity").GetInt32());
        var all = await (await admin.GetAsync("/api/admin/slow-queries?pageSize=100")).JsonAsync();
        Assert.True(all.GetProperty("total").GetInt32() > page.GetProperty("total").GetInt32());
        var mine = page.GetProperty("items").EnumerateArray().ToList();
        Assert.True(mine.Count > 0, $"nothing recorded for trace {trace}; newest: {string.Join(Environment.NewLine, all.GetProperty("items").EnumerateArray().Take(40))}");
        Assert.Equal(page.GetProperty("total").GetInt32(), mine.Count);
        Assert.All(mine, q => Assert.Equal(trace, q.GetProperty("traceId").GetString()));
        var load = Assert.Single(mine, q => q.GetProperty("sql").GetString()!.Contains("products", StringComparison.Ordinal));
        Assert.Equal("GET /api/products/{id}", load.GetProperty("endpoint").GetString());
        Assert.Equal("catalog", load.GetProperty("module").GetString());
        Assert.Equal("reader", load.GetProperty("kind").GetString());
        Assert.False(load.GetProperty("failed").GetBoolean());
        Assert.True(load.GetProperty("durationMs").GetDouble() >= 0);
        Assert.True(load.GetProperty("at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        if (TestEnvironment.UsesPostgres)
        {
            var postgres = new NpgsqlConnectionStringBuilder(node.PostgresConnectionString);
            Assert.Equal($"{postgres.Host}:{postgres.Port}", load.GetProperty("server").GetString());
        }
        else
        {
            Assert.Equal("sqlite", load.GetProperty("server").GetString());
        }

        // The product id was a parameter: its value is in no entry and in no log line.
        var productId = Guid.Parse(product);
        string[] forms = [productId.ToString("D"), productId.ToString("N"), productId.ToString("D").ToUpperInvariant()];
        foreach (var query in page.GetProperty("items").EnumerateArray().Concat(all.GetProperty("items").EnumerateArray()))
        {
            foreach (var form in forms)
            {
                Assert.DoesNotContain(form, query.GetProperty("sql").GetString()!, StringComparison.OrdinalIgnoreCase);
            }
        }
        var warnings = node.Logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("Slow query", StringComparison.Ordinal)).ToList();
        Assert.Contains(warnings, l => l.Contains(trace, StringComparison.Ordinal) && l.Contains("GET /api/products/{id}", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, l => forms.Any(f => l.Contains(f, StringComparison.OrdinalIgnoreCase)));

        listener.RecordObservableInstruments();
        Assert.True(Interlocked.Read(ref durations) > 0, "no command duration was recorded on the FlashMall.Database meter");
        Assert.True(Interlocked.Read(ref slow) > 0, "no slow command was counted on the FlashMall.Database meter");
    }

    [Fact]
    public async Task Only_operators_see_the_slow_queries()
    {
        using var anonymous = node.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/admin/slow-queries")).StatusCode);
        var buyer = await node.NewUserAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await buyer.Client.GetAsync("/api/admin/slow-queries")).StatusCode);
        var merchandiser = await node.NewUserAsync("merchandiser");
        Assert.Equal(HttpStatusCode.Forbidden, (await merchandiser.Client.GetAsync("/api/admin/slow-queries")).StatusCode);
        var operatorUser = await node.NewUserAsync("operator");
        await (await operatorUser.Client.GetAsync("/api/admin/slow-queries?page=2&pageSize=3")).JsonAsync();
        Assert.Equal(HttpStatusCode.BadRequest, (await operatorUser.Client.GetAsync("/api/admin/slow-queries?pageSize=lots")).StatusCode);
        await (await operatorUser.Client.GetAsync("/api/admin/slow-queries?traceId=not-a-trace")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }
}

/// <summary>A real slow query on PostgreSQL: blocked behind a lock the test holds, over a 250 ms threshold.</summary>
public sealed class LockedQueryFactory : FlashMallFactory
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Database:SlowQueryThreshold"] = "00:00:00.250";
    }
}

public sealed class PostgresSlowQueryTests(LockedQueryFactory node) : IClassFixture<LockedQueryFactory>
{
    [RedisFact] // the PostgreSQL run
    public async Task A_query_waiting_on_a_lock_is_recorded_with_its_real_duration()
    {
        var categoryId = await node.CategoryAsync();
        var merchandiser = await node.NewUserAsync("merchandiser");
        await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(categoryId));

        await using var connection = new NpgsqlConnection(node.PostgresConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE catalog.products IN ACCESS EXCLUSIVE MODE", connection, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }
        using var anonymous = node.CreateClient();
        var (trace, header) = TraceContext.New();
        var listing = anonymous.GetTracedAsync($"/api/products?categoryId={categoryId}", header);
        // Hold the lock until the listing's count is seen waiting on it, then 400 ms more.
        await using (var watcher = new NpgsqlConnection(node.PostgresConnectionString))
        {
            await watcher.OpenAsync();
            await using var waiting = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%count(*)%catalog.products%'", watcher);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while ((long)(await waiting.ExecuteScalarAsync())! == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the listing never waited on the lock");
                await Task.Delay(20);
            }
        }
        await Task.Delay(400);
        Assert.False(listing.IsCompleted);
        await transaction.CommitAsync();
        await (await listing).JsonAsync();

        using var admin = await node.AdminClientAsync();
        var all = await (await admin.GetAsync("/api/admin/slow-queries?pageSize=100")).JsonAsync();
        Assert.Equal(250, all.GetProperty("thresholdMs").GetDouble());
        var counts = all.GetProperty("items").EnumerateArray()
            .Where(q => q.GetProperty("sql").GetString()!.Contains("count(*)", StringComparison.Ordinal)
                && q.GetProperty("sql").GetString()!.Contains("catalog.products", StringComparison.Ordinal)).ToList();
        Assert.True(counts.Count == 1, $"expected the blocked count among: {string.Join(Environment.NewLine, all.GetProperty("items").EnumerateArray())}");
        var blocked = counts[0];
        Assert.Equal(trace, blocked.GetProperty("traceId").GetString());
        var page = await (await admin.GetAsync($"/api/admin/slow-queries?traceId={trace}")).JsonAsync();
        Assert.Contains(page.GetProperty("items").EnumerateArray(), q => q.GetProperty("at").GetString() == blocked.GetProperty("at").GetString());
        Assert.True(blocked.GetProperty("durationMs").GetDouble() >= 390, blocked.ToString());
        Assert.Equal("GET /api/products", blocked.GetProperty("endpoint").GetString());
        Assert.Contains("catalog.products", blocked.GetProperty("sql").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(categoryId, blocked.GetProperty("sql").GetString(), StringComparison.OrdinalIgnoreCase);
    }
}
