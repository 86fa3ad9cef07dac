using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using FlashMall.Catalog.Persistence;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Messaging;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FlashMall.Bench.Outbox;

// Outbox throughput: events/s from the writers' commits to the consumer's commit, for each
// store (SQLite; PostgreSQL when FLASHMALL_TEST_POSTGRES is set) and transport (in-process;
// RabbitMQ when FLASHMALL_TEST_RABBITMQ is set). Baseline, measured in the same run on the same
// store: the same writers committing the same events on a node that does not deliver (role core).
//
//   dotnet run -c Release --project bench/FlashMall.Bench.Outbox -- [EVENTS] [WRITERS] [EVENTS_PER_COMMIT] [AGGREGATES]
//
// Prints a markdown table to stdout.
internal static class OutboxBench
{
    public static async Task Main(string[] args)
    {
        var total = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5000;
        var writers = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 8;
        var perCommit = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 5;
        var postgres = Environment.GetEnvironmentVariable("FLASHMALL_TEST_POSTGRES");
        var rabbitMq = Environment.GetEnvironmentVariable("FLASHMALL_TEST_RABBITMQ");
        Bench.Aggregates = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1024;

        var stores = new List<string> { "Sqlite" };
        if (!string.IsNullOrEmpty(postgres))
        {
            stores.Add("Postgres");
        }
        var transports = new List<string> { "InProcess" };
        if (!string.IsNullOrEmpty(rabbitMq))
        {
            transports.Add("RabbitMq");
        }

        Console.WriteLine($"{total:N0} events on {Bench.Aggregates:N0} aggregates, {writers} writers, {perCommit} events per commit; {Environment.ProcessorCount} cores.");
        Console.WriteLine();
        Console.WriteLine("| store | transport | commits only (baseline), events/s | relayed (marked sent), events/s | commit → consumed, events/s | ratio consumed / baseline | latency p50 / p99 |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | --- |");
        foreach (var store in stores)
        {
            foreach (var transport in transports)
            {
                var baseline = await Bench.CommitOnlyAsync(store, transport, postgres, rabbitMq, total, writers, perCommit);
                var (delivered, relayed, p50, p99) = await Bench.DeliveredAsync(store, transport, postgres, rabbitMq, total, writers, perCommit);
                Console.WriteLine($"| {store} | {transport} | {baseline:N0} | {relayed:N0} | {delivered:N0} | {delivered / baseline:F2} | {p50:F0} ms / {p99:F0} ms |");
            }
        }
    }
}

public sealed record BenchEvent(string Run, int Number, long CommittedTicks);

internal sealed class BenchConsumer : IIntegrationEventConsumer<BenchEvent>
{
    public static readonly ConcurrentQueue<double> LatenciesMs = new();
    private static int _consumed;

    public static int Consumed => Volatile.Read(ref _consumed);

    public static void Reset()
    {
        LatenciesMs.Clear();
        Volatile.Write(ref _consumed, 0);
    }

    public Task ConsumeAsync(BenchEvent integrationEvent, CancellationToken cancellationToken)
    {
        LatenciesMs.Enqueue(Stopwatch.GetElapsedTime(integrationEvent.CommittedTicks).TotalMilliseconds);
        Interlocked.Increment(ref _consumed);
        return Task.CompletedTask;
    }
}

internal sealed class BenchNode : WebApplicationFactory<global::Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flashmall-bench", Guid.NewGuid().ToString("N"));
    private readonly string? _database;
    private readonly string? _postgresAdmin;

    public BenchNode(string store, string transport, string role, string? postgres, string? rabbitMq)
    {
        _settings = new()
        {
            ["role"] = role,
            ["Data:Directory"] = _directory,
            ["Demo:Seed"] = "false",
            ["RateLimiting:Enabled"] = "false",
            ["Jwt:SigningKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)),
            ["Messaging:Transport"] = transport,
            ["Messaging:RabbitMq:Prefix"] = $"fmbench.{Guid.NewGuid():N}",
            ["ConnectionStrings:RabbitMq"] = rabbitMq,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (store == "Postgres")
        {
            _postgresAdmin = postgres;
            _database = $"fm_bench_{Guid.NewGuid():N}";
            _settings["Database:Provider"] = "Postgres";
            _settings["ConnectionStrings:Postgres"] = new NpgsqlConnectionStringBuilder(postgres) { Database = _database }.ToString();
        }
    }

    public async Task StartAsync()
    {
        if (_database is not null)
        {
            await using var connection = new NpgsqlConnection(_postgresAdmin);
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{_database}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        CreateClient().Dispose();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        builder.ConfigureServices(services =>
            services.AddIntegrationEventConsumer<CatalogDbContext, BenchEvent, BenchConsumer>("bench.counter"));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(_postgresAdmin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

internal static class Bench
{
    /// <summary>Distinct aggregates the events fall on (orders, sales): their events stay in order.</summary>
    public static int Aggregates { get; set; } = 1024;

    /// <summary>Events/s committed by the writers on a node that only writes (no relay, no consumer).</summary>
    public static async Task<double> CommitOnlyAsync(string store, string transport, string? postgres, string? rabbitMq, int total, int writers, int perCommit)
    {
        await using var node = new BenchNode(store, transport, "core", postgres, rabbitMq);
        await node.StartAsync();
        await CommitAsync(node, "warm-up", 200, writers, perCommit);
        var watch = Stopwatch.StartNew();
        await CommitAsync(node, "baseline", total, writers, perCommit);
        return total / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Events/s from the first commit to the last consumer commit, and each event's commit-to-consumed latency.</summary>
    public static async Task<(double EventsPerSecond, double RelayedPerSecond, double P50, double P99)> DeliveredAsync(
        string store, string transport, string? postgres, string? rabbitMq, int total, int writers, int perCommit)
    {
        await using var node = new BenchNode(store, transport, "all", postgres, rabbitMq);
        await node.StartAsync();
        BenchConsumer.Reset();
        await CommitAsync(node, "warm-up", 200, writers, perCommit);
        await WaitForAsync(200);
        BenchConsumer.Reset();

        var watch = Stopwatch.StartNew();
        var relayed = WaitForRelayAsync(node, total);
        await CommitAsync(node, "measured", total, writers, perCommit);
        await WaitForAsync(total);
        var elapsed = watch.Elapsed;
        var relayedAfter = await relayed;
        var latencies = BenchConsumer.LatenciesMs.Order().ToArray();
        return (total / elapsed.TotalSeconds, total / relayedAfter.TotalSeconds, latencies[latencies.Length / 2], latencies[(int)(latencies.Length * 0.99)]);
    }

    /// <summary>Time from now until the relay has marked all <paramref name="total"/> measured events sent (in-process: consumed; RabbitMQ: confirmed).</summary>
    private static async Task<TimeSpan> WaitForRelayAsync(BenchNode node, int total)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            await Task.Delay(50);
            await using var scope = node.Services.CreateAsyncScope();
            var outbox = scope.ServiceProvider.GetRequiredService<CatalogDbContext>().Set<OutboxMessage>();
            var sent = await outbox.CountAsync(m => m.SentAt != null && m.Payload.Contains("\"Run\":\"measured\""));
            if (sent >= total)
            {
                return watch.Elapsed;
            }
        }
    }

    private static async Task WaitForAsync(int count)
    {
        var deadline = Stopwatch.StartNew();
        while (BenchConsumer.Consumed < count)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"Only {BenchConsumer.Consumed} of {count} events were consumed in 3 minutes.");
            }
            await Task.Delay(5);
        }
    }

    /// <summary><paramref name="writers"/> tasks commit <paramref name="total"/> events, <paramref name="perCommit"/> per transaction, each on its own aggregate.</summary>
    private static Task CommitAsync(BenchNode node, string run, int total, int writers, int perCommit) =>
        Task.WhenAll(Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
        {
            for (var first = writer * perCommit; first < total; first += writers * perCommit)
            {
                await using var scope = node.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<CatalogDbContext>();
                var ids = scope.ServiceProvider.GetRequiredService<IIdGenerator>();
                for (var n = first; n < Math.Min(first + perCommit, total); n++)
                {
                    db.AddIntegrationEvent($"{run}-{n % Aggregates}", new BenchEvent(run, n, Stopwatch.GetTimestamp()), ids, TimeProvider.System);
                }
                await db.SaveChangesAsync();
            }
        })));
}
