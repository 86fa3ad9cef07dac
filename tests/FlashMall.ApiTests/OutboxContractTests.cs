using System.Collections.Concurrent;
using System.Net;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Catalog.Persistence;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>
/// The integration-event contract (ADR 0005), the same tests on both transports: in-process and
/// RabbitMQ (when test.sh started it), each on both stores.
/// </summary>
public sealed class OutboxContractTests
{
    public static TheoryData<string> Transports =>
        TestEnvironment.RabbitMq is null ? new TheoryData<string>("InProcess") : new TheoryData<string>("InProcess", "RabbitMq");

    internal static FlashMallFactory NewNode(FlashMallFactory? shareWith = null)
    {
        var node = shareWith is null ? new FlashMallFactory() : new SecondNodeFactory(shareWith);
        node.ConfigureTestServices = services => services
            .AddIntegrationEventConsumer<CatalogDbContext, TestEvent, TestConsumer>("tests.consumer")
            .AddIntegrationEventConsumer<CatalogDbContext, TestEvent, OtherTestConsumer>("tests.other-consumer")
            .AddIntegrationEventConsumer<CatalogDbContext, TestEvent, OutsideEffectConsumer>("tests.outside-effects", oneAtATime: true);
        return node;
    }

    /// <summary>Starts a node and runs <paramref name="test"/> against it; the node and its stores are removed afterwards.</summary>
    private static async Task WithNodeAsync(string transport, Func<FlashMallFactory, Task> test)
    {
        var node = await StartAsync(NewNode(), transport);
        try
        {
            await test(node);
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    internal static async Task<FlashMallFactory> StartAsync(FlashMallFactory node, string transport, string role = "all")
    {
        await ((IAsyncLifetime)node).InitializeAsync();
        node.Settings["role"] = role;
        node.Settings["Messaging:Transport"] = transport;
        node.Settings["Messaging:RetryBaseDelay"] = "00:00:00.020";
        node.Settings["Messaging:MaxAttempts"] = "3";
        node.Settings["Messaging:PollInterval"] = "00:00:00.050";
        node.CreateClient().Dispose();
        return node;
    }

    internal static async Task PublishAsync(FlashMallFactory node, params TestEvent[] events)
    {
        await node.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<CatalogDbContext>();
            var ids = services.GetRequiredService<IIdGenerator>();
            foreach (var e in events)
            {
                db.AddIntegrationEvent(e.Aggregate, e, ids, TimeProvider.System);
            }
            return await db.SaveChangesAsync();
        });
    }

    internal static Task EventuallyAsync(Func<bool> condition, string what, int seconds = 15) => EventuallyAsync(() => Task.FromResult(condition()), what, seconds);

    internal static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public Task Every_committed_event_is_delivered_once_in_order_per_aggregate(string transport) => WithNodeAsync(transport, async node =>
    {
        var run = Guid.NewGuid().ToString("N");
        var events = Enumerable.Range(0, 30).Select(i => new TestEvent(run, $"agg-{i % 3}", i / 3)).ToArray();

        await PublishAsync(node, events);

        await EventuallyAsync(() => TestConsumer.Received(run).Count == 30, "30 deliveries");
        var received = TestConsumer.Received(run);
        Assert.Equal(30, received.Select(e => (e.Aggregate, e.Sequence)).Distinct().Count());
        foreach (var aggregate in received.GroupBy(e => e.Aggregate))
        {
            Assert.Equal(Enumerable.Range(0, 10), aggregate.Select(e => e.Sequence));
        }
        await EventuallyAsync(() => node.WithScope(s => s.GetRequiredService<CatalogDbContext>().Set<OutboxMessage>().Count(m => m.SentAt == null)) == 0, "all marked sent");
    });

    [Theory]
    [MemberData(nameof(Transports))]
    public Task An_event_from_a_rolled_back_transaction_is_never_delivered(string transport) => WithNodeAsync(transport, async node =>
    {
        var run = Guid.NewGuid().ToString("N");
        await node.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<CatalogDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.AddIntegrationEvent("agg", new TestEvent(run, "agg", 0), services.GetRequiredService<IIdGenerator>(), TimeProvider.System);
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
            return 0;
        });
        await PublishAsync(node, new TestEvent(run, "agg", 1));

        await EventuallyAsync(() => TestConsumer.Received(run).Count >= 1, "the committed event");
        await Task.Delay(300);
        Assert.Equal([1], TestConsumer.Received(run).Select(e => e.Sequence));
    });

    /// <summary>
    /// A consumer that also acts outside its transaction (the Redis ledger's release) gets a
    /// transaction per message: when the second message of a run fails, the first one's outside
    /// effect is not done again.
    /// </summary>
    [Theory]
    [MemberData(nameof(Transports))]
    public Task A_one_at_a_time_consumer_never_repeats_an_outside_effect_when_a_later_message_fails(string transport) => WithNodeAsync(transport, async node =>
    {
        var run = Guid.NewGuid().ToString("N");
        OutsideEffectConsumer.FailOnce(run, sequence: 1);

        await PublishAsync(node, new TestEvent(run, "agg", 0), new TestEvent(run, "agg", 1), new TestEvent(run, "agg", 2));

        await EventuallyAsync(() => OutsideEffectConsumer.Effects(run, 2) == 1, "the last effect");
        await Task.Delay(300);
        Assert.Equal([1, 1, 1], [OutsideEffectConsumer.Effects(run, 0), OutsideEffectConsumer.Effects(run, 1), OutsideEffectConsumer.Effects(run, 2)]);
    });

    [Theory]
    [MemberData(nameof(Transports))]
    public Task A_consumer_that_throws_twice_then_succeeds_processes_the_event_exactly_once(string transport) => WithNodeAsync(transport, async node =>
    {
        var run = Guid.NewGuid().ToString("N");
        TestConsumer.FailNext(run, 2);

        await PublishAsync(node, new TestEvent(run, "agg", 0));

        await EventuallyAsync(() => TestConsumer.Received(run).Count == 1, "the delivery");
        await Task.Delay(300);
        Assert.Single(TestConsumer.Received(run));
        Assert.Equal(3, TestConsumer.Attempts(run));
        var message = node.WithScope(s => s.GetRequiredService<CatalogDbContext>().Set<OutboxMessage>().AsNoTracking().Single(m => m.Payload.Contains(run)));
        Assert.NotNull(message.SentAt);
        Assert.Equal(2, message.Attempts);
    });

    [Theory]
    [MemberData(nameof(Transports))]
    public Task A_poison_message_is_dead_lettered_listed_and_replayed(string transport) => WithNodeAsync(transport, async node =>
    {
        var run = Guid.NewGuid().ToString("N");
        TestConsumer.FailNext(run, int.MaxValue);
        var operatorUser = await node.NewUserAsync("operator");

        await PublishAsync(node, new TestEvent(run, "poison", 0), new TestEvent(run, "poison", 1));

        string? id = null;
        await EventuallyAsync(async () =>
        {
            var list = await (await operatorUser.Client.GetAsync("/api/admin/dead-letters")).JsonAsync();
            id = list.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetString()).FirstOrDefault();
            return id is not null;
        }, "a dead letter");
        // The second event of the same aggregate waits behind the dead letter, untried: order holds.
        await Task.Delay(300);
        Assert.Empty(TestConsumer.Received(run));
        Assert.Equal(3, TestConsumer.Attempts(run));

        TestConsumer.FailNext(run, 0);
        await (await operatorUser.Client.PostAsync($"/api/admin/dead-letters/{id}/replay", null)).EnsureStatusAsync(HttpStatusCode.Accepted);

        await EventuallyAsync(() => TestConsumer.Received(run).Count == 2, "both events after the replay");
        Assert.Equal([0, 1], TestConsumer.Received(run).Select(e => e.Sequence));
        var after = await (await operatorUser.Client.GetAsync("/api/admin/dead-letters")).JsonAsync();
        Assert.Equal(0, after.GetProperty("total").GetInt32());
        await (await operatorUser.Client.PostAsync($"/api/admin/dead-letters/{id}/replay", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
    });

    /// <summary>
    /// The process that committed dies before anything was published (a <c>core</c> node never
    /// publishes): a worker started later on the same store delivers everything, in order.
    /// </summary>
    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Events_committed_where_no_relay_runs_are_delivered_when_a_worker_starts(string transport)
    {
        var run = Guid.NewGuid().ToString("N");
        var core = await StartAsync(NewNode(), transport, role: "core");
        try
        {
            await PublishAsync(core, new TestEvent(run, "agg", 0), new TestEvent(run, "agg", 1));
            await Task.Delay(500);
            Assert.Empty(TestConsumer.Received(run));

            var worker = await StartAsync(NewNode(core), transport, role: "worker");
            try
            {
                await EventuallyAsync(() => TestConsumer.Received(run).Count == 2, "delivery by the worker");
                Assert.Equal([0, 1], TestConsumer.Received(run).Select(e => e.Sequence));
            }
            finally
            {
                await ((IAsyncLifetime)worker).DisposeAsync();
            }
        }
        finally
        {
            await ((IAsyncLifetime)core).DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public Task Redelivering_a_processed_message_changes_nothing(string transport) => WithNodeAsync(transport, async node =>
    {
        var run = Guid.NewGuid().ToString("N");
        await PublishAsync(node, new TestEvent(run, "agg", 0));
        await EventuallyAsync(() => TestConsumer.Received(run).Count == 1, "the first delivery");
        await EventuallyAsync(() => node.WithScope(s => s.GetRequiredService<CatalogDbContext>().Set<OutboxMessage>().Any(m => m.Payload.Contains(run) && m.SentAt != null)), "sent");

        // As if the relay had crashed after the consumer's commit but before marking it sent.
        await node.WithScopeAsync(s => s.GetRequiredService<CatalogDbContext>().Set<OutboxMessage>()
            .Where(m => m.Payload.Contains(run)).ExecuteUpdateAsync(u => u.SetProperty(m => m.SentAt, (DateTimeOffset?)null)));

        await EventuallyAsync(() => node.WithScope(s => s.GetRequiredService<CatalogDbContext>().Set<OutboxMessage>().Any(m => m.Payload.Contains(run) && m.SentAt != null)), "sent again");
        Assert.Single(TestConsumer.Received(run));
        Assert.Equal(1, TestConsumer.Attempts(run));
    });

    /// <summary>
    /// A second consumer of the same events is not held up by the first one's dead letter, and
    /// after the replay neither consumes anything twice or out of order.
    /// </summary>
    [Theory]
    [MemberData(nameof(Transports))]
    public Task A_dead_letter_of_one_consumer_leaves_another_consumer_exactly_once(string transport) => WithNodeAsync(transport, async node =>
    {
        var run = Guid.NewGuid().ToString("N");
        TestConsumer.FailNext(run, int.MaxValue);
        var operatorUser = await node.NewUserAsync("operator");

        await PublishAsync(node, new TestEvent(run, "agg", 0), new TestEvent(run, "agg", 1), new TestEvent(run, "agg", 2));

        await EventuallyAsync(async () => (await DeadLetterIdsAsync(operatorUser.Client)).Count > 0, "a dead letter");
        await EventuallyAsync(() => OtherTestConsumer.Received(run).Count >= 1, "the other consumer's first event");
        TestConsumer.FailNext(run, 0);
        var first = await FirstDeadLetterAsync(operatorUser.Client);
        await (await operatorUser.Client.PostAsync($"/api/admin/dead-letters/{first}/replay", null)).EnsureStatusAsync(HttpStatusCode.Accepted);

        await EventuallyAsync(() => TestConsumer.Received(run).Count == 3 && OtherTestConsumer.Received(run).Count == 3, "all three for both consumers");
        await Task.Delay(300);
        Assert.Equal([0, 1, 2], TestConsumer.Received(run).Select(e => e.Sequence));
        Assert.Equal([0, 1, 2], OtherTestConsumer.Received(run).Select(e => e.Sequence));
        Assert.Empty(await DeadLetterIdsAsync(operatorUser.Client));
    });

    /// <summary>Hundreds of events queued behind one dead letter do not stop the other aggregates of the module.</summary>
    [Theory]
    [MemberData(nameof(Transports))]
    public Task Events_behind_a_dead_letter_do_not_stall_other_aggregates(string transport) => WithNodeAsync(transport, async node =>
    {
        var stuck = Guid.NewGuid().ToString("N");
        var flowing = Guid.NewGuid().ToString("N");
        TestConsumer.FailNext(stuck, int.MaxValue);
        await PublishAsync(node, [.. Enumerable.Range(0, 250).Select(i => new TestEvent(stuck, "stuck", i))]);
        await PublishAsync(node, [.. Enumerable.Range(0, 5).Select(i => new TestEvent(flowing, $"flowing-{i}", 0))]);

        await EventuallyAsync(() => TestConsumer.Received(flowing).Count == 5, "the other aggregates' events");
        Assert.Empty(TestConsumer.Received(stuck));
    });

    /// <summary>The daily purge of delivered messages keeps dead letters, however old.</summary>
    [Theory]
    [MemberData(nameof(Transports))]
    public Task The_purge_keeps_dead_letters(string transport) => WithNodeAsync(transport, async node =>
    {
        var run = Guid.NewGuid().ToString("N");
        TestConsumer.FailNext(run, int.MaxValue);
        var operatorUser = await node.NewUserAsync("operator");
        await PublishAsync(node, new TestEvent(run, "agg", 0));
        await EventuallyAsync(async () => (await DeadLetterIdsAsync(operatorUser.Client)).Count == 1, "the dead letter");

        var longAgo = DateTimeOffset.UtcNow.AddDays(-30);
        await node.WithScopeAsync(s => s.GetRequiredService<CatalogDbContext>().Set<OutboxMessage>()
            .Where(m => m.Payload.Contains(run)).ExecuteUpdateAsync(u => u.SetProperty(m => m.SentAt, longAgo).SetProperty(m => m.CreatedAt, longAgo)));
        using var admin = await node.AdminClientAsync();
        await (await admin.PostAsync("/api/admin/jobs/kernel.purge-delivered-messages/run", null)).EnsureStatusAsync(HttpStatusCode.OK);

        Assert.Single(await DeadLetterIdsAsync(operatorUser.Client));
    });

    private static async Task<List<string>> DeadLetterIdsAsync(HttpClient client)
    {
        var list = await (await client.GetAsync("/api/admin/dead-letters?pageSize=100")).JsonAsync();
        return [.. list.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetString()!)];
    }

    /// <summary>The dead letter that is not held back behind another.</summary>
    private static async Task<string> FirstDeadLetterAsync(HttpClient client)
    {
        var list = await (await client.GetAsync("/api/admin/dead-letters?pageSize=100")).JsonAsync();
        return list.GetProperty("items").EnumerateArray()
            .Where(d => d.GetProperty("lastError").GetString()?.StartsWith("Held back", StringComparison.Ordinal) != true)
            .Select(d => d.GetProperty("id").GetString()!).Single();
    }

    /// <summary>Two nodes that both run relays and consumers: one relays, every event is handled once and in order.</summary>
    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Two_worker_nodes_deliver_each_event_once_in_order_per_aggregate(string transport)
    {
        var run = Guid.NewGuid().ToString("N");
        var first = await StartAsync(NewNode(), transport);
        var second = await StartAsync(NewNode(first), transport);
        try
        {
            var events = Enumerable.Range(0, 200).Select(i => new TestEvent(run, $"agg-{i % 10}", i / 10)).ToArray();
            for (var batch = 0; batch < 200; batch += 20)
            {
                await PublishAsync(batch % 40 == 0 ? first : second, events[batch..(batch + 20)]);
            }

            await EventuallyAsync(() => TestConsumer.Received(run).Count >= 200, "200 deliveries", seconds: 30);
            await Task.Delay(300);
            var received = TestConsumer.Received(run);
            Assert.Equal(200, received.Count);
            foreach (var aggregate in received.GroupBy(e => e.Aggregate))
            {
                Assert.Equal(Enumerable.Range(0, 20), aggregate.Select(e => e.Sequence));
            }
            // One node took the catalog relay's lease and kept it; the other never relayed.
            var takeovers = first.Logs.Lines.Concat(second.Logs.Lines).Count(l => l.Contains("now relays the outbox of catalog", StringComparison.Ordinal));
            Assert.Equal(1, takeovers);
        }
        finally
        {
            await ((IAsyncLifetime)second).DisposeAsync();
            await ((IAsyncLifetime)first).DisposeAsync();
        }
    }
}

/// <summary>Runs alone, after the parallel test classes: restarting the one RabbitMQ every test shares would stall their deliveries.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SharedBrokerRestartGroup
{
    public const string Name = "Shared broker restart";
}

[Collection(SharedBrokerRestartGroup.Name)]
public sealed class BrokerRestartTests
{
    /// <summary>
    /// RabbitMQ is stopped and started again while events are being committed: every event is
    /// consumed exactly once, in order per aggregate, once the connection has recovered.
    /// </summary>
    [RabbitMqFact]
    public async Task A_broker_restart_mid_stream_loses_nothing_and_processes_nothing_twice()
    {
        var run = Guid.NewGuid().ToString("N");
        var node = await OutboxContractTests.StartAsync(OutboxContractTests.NewNode(), "RabbitMq");
        try
        {
            var events = Enumerable.Range(0, 600).Select(i => new TestEvent(run, $"agg-{i % 12}", i / 12)).ToArray();
            var publishing = Task.Run(async () =>
            {
                for (var batch = 0; batch < events.Length; batch += 20)
                {
                    await OutboxContractTests.PublishAsync(node, events[batch..(batch + 20)]);
                    await Task.Delay(100);
                }
            });
            await OutboxContractTests.EventuallyAsync(() => TestConsumer.Received(run).Count > 0, "the first deliveries");
            await RestartRabbitMqAsync();
            await publishing;

            await OutboxContractTests.EventuallyAsync(() => TestConsumer.Received(run).Count >= 600, "600 deliveries after the restart", seconds: 90);
            await Task.Delay(500);
            var received = TestConsumer.Received(run);
            Assert.Equal(600, received.Count);
            foreach (var aggregate in received.GroupBy(e => e.Aggregate))
            {
                Assert.Equal(Enumerable.Range(0, 50), aggregate.Select(e => e.Sequence));
            }
            Assert.True(node.Logs.All.Contains("Connection to RabbitMQ recovered", StringComparison.Ordinal), "the client recovered its connection");
            await OutboxContractTests.EventuallyAsync(() => node.WithScope(s => s.GetRequiredService<CatalogDbContext>().Set<OutboxMessage>().Count(m => m.SentAt == null)) == 0, "all marked sent");
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    private static async Task RestartRabbitMqAsync()
    {
        using var restart = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", [TestEnvironment.RabbitMqRestart!])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = restart.StandardOutput.ReadToEndAsync();
        var errors = restart.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await restart.WaitForExitAsync(timeout.Token);
        Assert.True(restart.ExitCode == 0, $"restarting RabbitMQ failed: {await output} {await errors}");
    }
}

public sealed record TestEvent(string RunId, string Aggregate, int Sequence);

/// <summary>Records what it consumed once the consumer's transaction commits: effects, not calls.</summary>
internal sealed class TestConsumer(CatalogDbContext db) : IIntegrationEventConsumer<TestEvent>
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<TestEvent>> Deliveries = new();
    private static readonly ConcurrentDictionary<string, int> FailuresLeft = new();
    private static readonly ConcurrentDictionary<string, int> AttemptCounts = new();

    public static IReadOnlyList<TestEvent> Received(string run) => Deliveries.TryGetValue(run, out var q) ? [.. q] : [];

    public static int Attempts(string run) => AttemptCounts.GetValueOrDefault(run);

    public static void FailNext(string run, int times) => FailuresLeft[run] = times;

    public Task ConsumeAsync(TestEvent integrationEvent, CancellationToken cancellationToken)
    {
        Attempted(integrationEvent);
        if (FailuresLeft.TryGetValue(integrationEvent.RunId, out var left) && left > 0)
        {
            FailuresLeft[integrationEvent.RunId] = left == int.MaxValue ? left : left - 1;
            throw new InvalidOperationException("Simulated consumer failure.");
        }
        return db.RunAfterCommitAsync(_ =>
        {
            Deliveries.GetOrAdd(integrationEvent.RunId, _ => new ConcurrentQueue<TestEvent>()).Enqueue(integrationEvent);
            return Task.CompletedTask;
        }, cancellationToken);
    }

    private static void Attempted(TestEvent integrationEvent) =>
        AttemptCounts.AddOrUpdate(integrationEvent.RunId, 1, (_, n) => n + 1);
}

/// <summary>A second consumer of the same event, which never fails.</summary>
internal sealed class OtherTestConsumer(CatalogDbContext db) : IIntegrationEventConsumer<TestEvent>
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<TestEvent>> Deliveries = new();

    public static IReadOnlyList<TestEvent> Received(string run) => Deliveries.TryGetValue(run, out var q) ? [.. q] : [];

    public Task ConsumeAsync(TestEvent integrationEvent, CancellationToken cancellationToken) =>
        db.RunAfterCommitAsync(_ =>
        {
            Deliveries.GetOrAdd(integrationEvent.RunId, _ => new ConcurrentQueue<TestEvent>()).Enqueue(integrationEvent);
            return Task.CompletedTask;
        }, cancellationToken);
}

/// <summary>A consumer whose effect happens outside its transaction, at once (as a Redis script would).</summary>
internal sealed class OutsideEffectConsumer : IIntegrationEventConsumer<TestEvent>
{
    private static readonly ConcurrentDictionary<(string, int), int> EffectCounts = new();
    private static readonly ConcurrentDictionary<(string, int), bool> Failing = new();

    public static void FailOnce(string run, int sequence) => Failing[(run, sequence)] = true;

    public static int Effects(string run, int sequence) => EffectCounts.GetValueOrDefault((run, sequence));

    public Task ConsumeAsync(TestEvent integrationEvent, CancellationToken cancellationToken)
    {
        var key = (integrationEvent.RunId, integrationEvent.Sequence);
        if (Failing.TryRemove(key, out _))
        {
            throw new InvalidOperationException("Simulated failure before the effect.");
        }
        EffectCounts.AddOrUpdate(key, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}
