using System.Net;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.FlashSales.Ledger.Redis;
using FlashMall.FlashSales.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace FlashMall.ApiTests;

/// <summary>
/// The Redis ledger where it differs from the embedded one: Redis is only the gate. It loses its
/// data, is given nonsense, or admits what the database then refuses, and the database still decides.
/// </summary>
public sealed class RedisLedgerTests
{
    private static async Task<FlashMallFactory> NodeAsync(string? redis = null, Action<FlashMallFactory>? configure = null, FlashMallFactory? shareStoresWith = null)
    {
        var node = shareStoresWith is null ? new FlashMallFactory() : new SecondNodeFactory(shareStoresWith);
        await ((IAsyncLifetime)node).InitializeAsync();
        if (redis is not null)
        {
            node.Settings["ConnectionStrings:Redis"] = redis;
        }
        node.Settings["FlashSales:Ledger"] = "Redis";
        node.Settings["Ordering:ReservationPollInterval"] = "00:00:00.050";
        configure?.Invoke(node);
        node.CreateClient().Dispose();
        return node;
    }

    private static async Task<string> LiveSaleAsync(FlashMallFactory node, int quantity, int perUserLimit = 1)
    {
        using var admin = await node.AdminClientAsync();
        return await node.LiveSaleAsync(admin, quantity, perUserLimit);
    }

    private static SaleKeys Keys(FlashMallFactory node, string sale) => node.Services.GetRequiredService<RedisLedgerKeys>().For(Guid.Parse(sale));

    [RedisFact]
    public async Task Redis_restarted_empty_mid_sale_pauses_admission_rebuilds_from_the_database_and_sells_exactly_the_quantity()
    {
        await using var redis = await PrivateRedis.StartAsync();
        var node = await NodeAsync(redis.ConnectionString);
        try
        {
            var sale = await LiveSaleAsync(node, quantity: 300);
            var answers = new List<(HttpStatusCode Status, string Body, DateTime At)>();
            using var stop = new CancellationTokenSource();
            // Buyers past the 60th reservation wait for the restart: on a fast machine they would
            // otherwise sell the remaining units out before Redis is down, and no buyer would
            // reach the paused admission.
            var restartDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var buying = Task.Run(async () =>
            {
                await Parallel.ForEachAsync(Enumerable.Range(0, 5_000), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, ct) =>
                {
                    if (Count(answers, HttpStatusCode.Accepted) >= 60)
                    {
                        await restartDone.Task;
                    }
                    if (stop.IsCancellationRequested)
                    {
                        return;
                    }
                    using var buyer = node.Buyer(Guid.NewGuid());
                    using var response = await buyer.PurchaseAsync(sale);
                    var answer = (response.StatusCode, await response.Content.ReadAsStringAsync(ct), DateTime.UtcNow);
                    lock (answers)
                    {
                        answers.Add(answer);
                        if (answer.Item2.Contains("\"sold_out\"", StringComparison.Ordinal))
                        {
                            stop.Cancel();
                        }
                    }
                });
            });
            await LedgerScenarios.EventuallyAsync(() => Task.FromResult(Count(answers, HttpStatusCode.Accepted) >= 60), "60 reservations before the restart");
            await redis.RestartEmptyAsync();
            var restarted = DateTime.UtcNow;
            restartDone.SetResult();
            await buying;

            List<(HttpStatusCode Status, string Body, DateTime At)> all;
            lock (answers)
            {
                all = [.. answers];
            }
            // Admission paused while the keys were rebuilt from the database...
            Assert.Contains(all, a => a.Status == HttpStatusCode.ServiceUnavailable && a.Body.Contains("\"ledger_recovering\"", StringComparison.Ordinal));
            // ...and resumed within 5 s of Redis being back.
            var resumed = all.Where(a => a.At > restarted && a.Status == HttpStatusCode.Accepted).Min(a => a.At);
            Assert.True(resumed - restarted < TimeSpan.FromSeconds(5), $"selling resumed {(resumed - restarted).TotalSeconds:F1} s after the restart");
            Assert.Contains(node.Logs.Lines, l => l.Contains("rebuilt in Redis from the database", StringComparison.Ordinal));

            // The database sold exactly the quantity: reservations Redis lost with its data were
            // never written (their units were sold again after the rebuild), none was sold twice.
            var (_, units, reserved) = await node.StoredAsync(sale, countReleased: false);
            Assert.Equal(300, units);
            Assert.Equal(300, reserved);
            await LedgerScenarios.EventuallyAsync(async () => await node.OrdersOfSaleAsync(sale) == 300, "an order for every reservation");
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    /// <summary>
    /// A cancel while Redis has lost the sale: the release cannot be applied to keys that are
    /// not there, so it rolls back, starts the rebuild itself (nobody may be buying), and lands
    /// once — the unit is back in Redis and sells again.
    /// </summary>
    [RedisFact]
    public async Task An_order_cancelled_while_Redis_is_empty_gives_its_unit_back_once_the_sale_is_rebuilt()
    {
        await using var redis = await PrivateRedis.StartAsync();
        var node = await NodeAsync(redis.ConnectionString);
        try
        {
            var sale = await LiveSaleAsync(node, quantity: 1);
            var buyerId = Guid.NewGuid();
            using var buyer = node.Buyer(buyerId);
            var reservation = (await (await buyer.PurchaseAsync(sale)).JsonAsync(HttpStatusCode.Accepted)).GetProperty("reservationId").GetString()!;
            await LedgerScenarios.EventuallyAsync(async () => await node.OrdersOfSaleAsync(sale) == 1, "the order");

            await redis.RestartEmptyAsync();
            var order = (await (await buyer.GetAsync($"/api/reservations/{reservation}")).JsonAsync()).GetProperty("orderId").GetString();
            var cancelled = await (await buyer.PostAsync($"/api/orders/{order}/cancel", null)).JsonAsync();
            Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());

            await LedgerScenarios.EventuallyAsync(async () =>
                (await (await buyer.GetAsync($"/api/reservations/{reservation}")).JsonAsync()).GetProperty("status").GetString() == "released", "the release");
            var ledger = node.Services.GetRequiredService<FlashMall.FlashSales.Ledger.IStockLedger>();
            Assert.Equal(1, (await ledger.CountAsync(Guid.Parse(sale), CancellationToken.None))?.Remaining);
            using var next = node.Buyer(Guid.NewGuid());
            await (await next.PurchaseAsync(sale)).EnsureStatusAsync(HttpStatusCode.Accepted);
            Assert.Equal((2, 2, 1), await node.StoredAsync(sale));
            Assert.Equal(0, (await ledger.CountAsync(Guid.Parse(sale), CancellationToken.None))?.Remaining);
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    /// <summary>
    /// Redis evicts (or someone deletes) some of a sale's keys but not its epoch: the script
    /// notices before it writes, the sale is rebuilt, and nothing is lost or sold twice.
    /// </summary>
    [RedisFact]
    public async Task A_sale_whose_stream_and_buyers_vanished_is_rebuilt_and_sells_exactly_its_units()
    {
        var node = await NodeAsync();
        try
        {
            var sale = await LiveSaleAsync(node, quantity: 10);
            for (var i = 0; i < 4; i++)
            {
                using var buyer = node.Buyer(Guid.NewGuid());
                await (await buyer.PurchaseAsync(sale)).EnsureStatusAsync(HttpStatusCode.Accepted);
            }
            await node.StoredAsync(sale);
            var keys = Keys(node, sale);
            var redis = node.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
            await redis.KeyDeleteAsync([keys.Stream, keys.Buyers]);

            var accepted = 0;
            var recovering = 0;
            for (var attempt = 0; attempt < 200; attempt++)
            {
                using var buyer = node.Buyer(Guid.NewGuid());
                using var response = await buyer.PurchaseAsync(sale);
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted++;
                }
                else if (body.Contains("\"ledger_recovering\"", StringComparison.Ordinal))
                {
                    recovering++;
                    await Task.Delay(50);
                }
                else
                {
                    Assert.Contains("\"sold_out\"", body, StringComparison.Ordinal);
                    break;
                }
            }
            Assert.True(recovering > 0, "admission never paused");
            Assert.Equal(6, accepted);
            Assert.Equal((10, 10, 10), await node.StoredAsync(sale));
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    /// <summary>
    /// The reserve script is sent by its hash (EVALSHA); a Redis that has forgotten its scripts
    /// (SCRIPT FLUSH, as a restart or a failover to a fresh replica leaves it) is sent the text
    /// again, and the buyer never notices.
    /// </summary>
    [RedisFact]
    public async Task A_Redis_that_forgot_its_scripts_mid_sale_is_sent_the_reserve_script_again_and_sells_exactly_its_units()
    {
        var node = await NodeAsync();
        try
        {
            var sale = await LiveSaleAsync(node, quantity: 3);
            using (var first = node.Buyer(Guid.NewGuid()))
            {
                await (await first.PurchaseAsync(sale)).EnsureStatusAsync(HttpStatusCode.Accepted);
            }
            await using var admin = await ConnectionMultiplexer.ConnectAsync($"{TestEnvironment.Redis},allowAdmin=true");
            var server = admin.GetServer(admin.GetEndPoints().Single());
            var hash = Convert.ToHexStringLower(RedisLedgerScripts.ReserveHash);
            var exists = (RedisResult[]?)await server.ExecuteAsync("SCRIPT", "EXISTS", hash);
            Assert.True(exists is [var loaded] && (long)loaded == 1, "the reserve script is not cached under the hash the ledger sends");
            await server.ScriptFlushAsync();

            for (var i = 0; i < 2; i++)
            {
                using var buyer = node.Buyer(Guid.NewGuid());
                await (await buyer.PurchaseAsync(sale)).EnsureStatusAsync(HttpStatusCode.Accepted);
            }
            using (var late = node.Buyer(Guid.NewGuid()))
            {
                using var refused = await late.PurchaseAsync(sale);
                Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
                Assert.Contains("\"sold_out\"", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            Assert.Equal((3, 3, 3), await node.StoredAsync(sale));
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    [RedisFact]
    public Task The_reserve_script_given_bad_arguments_refuses_them_and_changes_nothing() => BadArgumentsAsync(connection: null);

    [RedisClusterFact]
    public Task On_a_Redis_Cluster_the_reserve_script_given_bad_arguments_refuses_them_and_changes_nothing() =>
        BadArgumentsAsync(TestEnvironment.RedisCluster);

    private static async Task BadArgumentsAsync(string? connection)
    {
        var node = await NodeAsync(connection);
        try
        {
            var sale = await LiveSaleAsync(node, quantity: 10, perUserLimit: 5);
            using (var buyer = node.Buyer(Guid.NewGuid()))
            {
                await (await buyer.PurchaseAsync(sale)).EnsureStatusAsync(HttpStatusCode.Accepted);
            }
            await node.StoredAsync(sale);
            var keys = Keys(node, sale);
            var redis = node.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
            var epoch = (string)(await redis.HashGetAsync(keys.Meta, "epoch"))!;
            var before = await DumpAsync(redis, keys);
            var buyerId = Guid.NewGuid().ToString("N");
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

            RedisValue[] Purchase(RedisValue units, RedisValue? buyer = null, RedisValue? id = null, RedisValue? keyed = null) =>
                [buyer ?? buyerId, units, id ?? Guid.NewGuid().ToString("N"), keyed ?? "0", ""];
            RedisValue[] Call(RedisValue[][] purchases, RedisValue? at = null, RedisValue? most = null) =>
                [epoch, at ?? now, most ?? 100, .. purchases.SelectMany(p => p)];

            // A bad purchase is refused on its own (-6 in its place); bad terms for the whole call refuse the call.
            var badPurchases = new[]
            {
                Purchase(0), Purchase(-1), Purchase(1_000_000_000), Purchase(101), Purchase("abc"), Purchase("1.5"), Purchase(""), Purchase("1e9"),
                Purchase("nan"), Purchase("0x1"), Purchase(" 1"), Purchase("+1"), Purchase("01"),
                Purchase(1, buyer: "not-a-buyer"), Purchase(1, buyer: new string('g', 32)), Purchase(1, id: "short"), Purchase(1, id: Guid.NewGuid().ToString()),
                Purchase(1, keyed: "yes"), Purchase(1, keyed: ""),
            };
            foreach (var purchase in badPurchases)
            {
                var codes = (int[])(await redis.ScriptEvaluateAsync(RedisLedgerScripts.Reserve, keys.Reserve, Call([purchase])))!;
                Assert.True(codes is [RedisLedgerScripts.BadArguments], $"({string.Join(", ", purchase)}) gave {string.Join(", ", codes)}");
            }
            var badCalls = new[]
            {
                Call([Purchase(1)], at: "soon"), Call([Purchase(1)], at: -5), Call([Purchase(1)], most: "many"),
                Call([]), Call([Purchase(1)[..4]]), Call([[.. Purchase(1), "extra"]]),
            };
            foreach (var arguments in badCalls)
            {
                var code = (int)await redis.ScriptEvaluateAsync(RedisLedgerScripts.Reserve, keys.Reserve, arguments);
                Assert.True(code == RedisLedgerScripts.BadArguments, $"({string.Join(", ", arguments)}) gave {code}");
            }
            var staleEpoch = Call([Purchase(1)]);
            staleEpoch[0] = "stale";
            Assert.Equal(RedisLedgerScripts.EpochChanged, (int)await redis.ScriptEvaluateAsync(RedisLedgerScripts.Reserve, keys.Reserve, staleEpoch));

            Assert.Equal(before, await DumpAsync(redis, keys));
            // The same script with good arguments does reserve (the refusals above were not for another reason).
            var good = (int[])(await redis.ScriptEvaluateAsync(RedisLedgerScripts.Reserve, keys.Reserve, Call([Purchase(1)])))!;
            Assert.Equal([RedisLedgerScripts.Reserved], good);
            Assert.NotEqual(before, await DumpAsync(redis, keys));
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    /// <summary>
    /// Under load one script call carries many purchases (<see cref="ReserveBatcher"/>): each is
    /// judged on its own, in order, as if it came alone. A bad one does not spoil the rest, the
    /// buyer's limit counts the purchases before it in the same call, and a retry in the same call
    /// finds the reservation its first try made.
    /// </summary>
    [RedisFact]
    public async Task One_script_call_judges_each_of_its_purchases_in_order_as_if_it_came_alone()
    {
        var node = await NodeAsync();
        try
        {
            var sale = await LiveSaleAsync(node, quantity: 10, perUserLimit: 5);
            var keys = Keys(node, sale);
            using (var warm = node.Buyer(Guid.NewGuid()))
            {
                await (await warm.PurchaseAsync(sale)).EnsureStatusAsync(HttpStatusCode.Accepted); // loads the sale (1 unit taken)
            }
            await node.StoredAsync(sale);
            var redis = node.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
            var epoch = (string)(await redis.HashGetAsync(keys.Meta, "epoch"))!;
            var streamBefore = await redis.StreamLengthAsync(keys.Stream);
            string buyer = Guid.NewGuid().ToString("N"), other = Guid.NewGuid().ToString("N"), keyedId = Guid.NewGuid().ToString("N");
            RedisValue[] Purchase(string who, int units, string? id = null) => [who, units, id ?? Guid.NewGuid().ToString("N"), id is null ? "0" : "1", ""];

            RedisValue[] arguments =
            [
                epoch, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 100,
                .. Purchase(buyer, 2),              // reserved: 2 of 5
                .. Purchase(buyer, 0),              // bad: refused alone
                .. Purchase(buyer, 2, keyedId),     // reserved: 4 of 5
                .. Purchase(buyer, 2, keyedId),     // the same key again: replayed, nothing taken
                .. Purchase(buyer, 1, keyedId),     // the same key, another quantity: refused
                .. Purchase(buyer, 2),              // 6 of 5: limit reached
                .. Purchase(other, 4),              // reserved: 4 of the 5 left
                .. Purchase(other, 1),              // reserved: the last unit
                .. Purchase(Guid.NewGuid().ToString("N"), 1), // sold out
            ];
            var codes = (int[])(await redis.ScriptEvaluateAsync(RedisLedgerScripts.Reserve, keys.Reserve, arguments))!;
            Assert.Equal(
                [
                    RedisLedgerScripts.Reserved, RedisLedgerScripts.BadArguments, RedisLedgerScripts.Reserved, RedisLedgerScripts.Replayed,
                    RedisLedgerScripts.KeyReused, RedisLedgerScripts.LimitReached, RedisLedgerScripts.Reserved, RedisLedgerScripts.Reserved,
                    RedisLedgerScripts.SoldOut,
                ],
                codes);
            Assert.Equal(0, (int)await redis.HashGetAsync(keys.Meta, "stock"));
            Assert.Equal(4, (int)await redis.HashGetAsync(keys.Buyers, buyer));
            Assert.Equal(5, (int)await redis.HashGetAsync(keys.Buyers, other));
            Assert.Equal($"{buyer}:2", (string?)await redis.HashGetAsync(keys.Reservations, keyedId));
            Assert.Equal(streamBefore + 4, await redis.StreamLengthAsync(keys.Stream));
            // The four admitted reach the database like any other: with the first, 5 reservations of 10 units.
            Assert.Equal((5, 10, 10), await node.StoredAsync(sale));
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    [RedisFact]
    public Task A_yes_from_Redis_that_the_database_refuses_is_released_as_a_gate_false_positive_and_never_becomes_an_order() =>
        FalsePositiveAsync(connection: null);

    [RedisClusterFact]
    public Task On_a_Redis_Cluster_a_yes_the_database_refuses_is_released_as_a_gate_false_positive() => FalsePositiveAsync(TestEnvironment.RedisCluster);

    private static async Task FalsePositiveAsync(string? connection)
    {
        var node = await NodeAsync(connection);
        try
        {
            var sale = await LiveSaleAsync(node, quantity: 5);
            for (var i = 0; i < 5; i++)
            {
                using var buyer = node.Buyer(Guid.NewGuid());
                await (await buyer.PurchaseAsync(sale)).EnsureStatusAsync(HttpStatusCode.Accepted);
            }
            await node.StoredAsync(sale);
            // Redis forgets three decrements (an acknowledged write lost in a failover).
            var redis = node.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
            await redis.HashIncrementAsync(Keys(node, sale).Meta, "stock", 3);
            await Task.Delay(1_100); // the in-process sold-out flag lapses

            // Three buyers at once, so all three are admitted before the stream's reader writes the
            // first (whose refusal starts the rebuild that would pause the others' admission).
            var late = (await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
            {
                var buyerId = Guid.NewGuid();
                using var buyer = node.Buyer(buyerId);
                var answer = await (await buyer.PurchaseAsync(sale)).JsonAsync(HttpStatusCode.Accepted);
                return (Buyer: buyerId, ReservationId: answer.GetProperty("reservationId").GetString()!);
            }))).ToList();

            Assert.Equal((8, 8, 5), await node.StoredAsync(sale));
            foreach (var (buyerId, reservationId) in late)
            {
                using var buyer = node.Buyer(buyerId);
                var seen = await (await buyer.GetAsync($"/api/reservations/{reservationId}")).JsonAsync();
                Assert.Equal("released", seen.GetProperty("status").GetString());
                var row = await node.WithScopeAsync(s => s.GetRequiredService<FlashSalesDbContext>().Reservations.SingleAsync(r => r.Id == Guid.Parse(reservationId)));
                Assert.Equal("gate_false_positive", row.ReleasedReason);
            }
            await LedgerScenarios.EventuallyAsync(async () => await node.OrdersOfSaleAsync(sale) == 5, "the 5 real orders");
            await Task.Delay(500);
            Assert.Equal(5, await node.OrdersOfSaleAsync(sale));
            Assert.Equal(3, node.Logs.Lines.Count(l => l.Contains("released as gate_false_positive", StringComparison.Ordinal)));

            // Redis is brought back in line with the database: the next buyer hears the truth.
            Assert.Contains(node.Logs.Lines, l => l.Contains("Redis has drifted from the database", StringComparison.Ordinal));
            await Task.Delay(1_100);
            using var after = node.Buyer(Guid.NewGuid());
            await LedgerScenarios.EventuallyAsync(async () =>
            {
                using var response = await after.PurchaseAsync(sale);
                Assert.NotEqual(HttpStatusCode.Accepted, response.StatusCode);
                return response.StatusCode == HttpStatusCode.Conflict;
            }, "sold_out after the rebuild", seconds: 10);
            Assert.Equal(0, (await node.Services.GetRequiredService<FlashMall.FlashSales.Ledger.IStockLedger>().CountAsync(Guid.Parse(sale), CancellationToken.None))?.Remaining);
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    [RedisFact]
    public Task Entries_a_dead_node_read_and_never_wrote_are_claimed_by_another_and_each_becomes_exactly_one_order() => ReclaimAsync(connection: null);

    [RedisClusterFact]
    public Task On_a_Redis_Cluster_entries_a_dead_node_read_are_claimed_by_another_and_each_becomes_exactly_one_order() =>
        ReclaimAsync(TestEnvironment.RedisCluster);

    private static async Task ReclaimAsync(string? connection)
    {
        // A core node admits; it runs no background work, so nothing writes its stream yet.
        var api = await NodeAsync(connection, configure: n => n.Settings["role"] = "core");
        FlashMallFactory? worker = null;
        try
        {
            // A core node serves no admin tools (421 wrong_role): the sale is set up through a non-core node on the same stores.
            string sale;
            var tools = await NodeAsync(connection, configure: n => n.Settings["role"] = "noncore", shareStoresWith: api);
            try
            {
                using var coreAdmin = await api.AdminClientAsync(); // logging in is core
                using var admin = tools.ClientWithToken(coreAdmin.DefaultRequestHeaders.Authorization!.Parameter!);
                sale = await tools.LiveSaleAsync(admin, 40, perUserLimit: 1);
            }
            finally
            {
                await ((IAsyncLifetime)tools).DisposeAsync();
            }
            var reserved = await Task.WhenAll(Enumerable.Range(0, 25).Select(async _ =>
            {
                using var buyer = api.Buyer(Guid.NewGuid());
                return (await (await buyer.PurchaseAsync(sale)).JsonAsync(HttpStatusCode.Accepted)).GetProperty("reservationId").GetString();
            }));
            // A worker reads every entry and dies before writing any.
            var keys = Keys(api, sale);
            var redis = api.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
            var taken = await redis.StreamReadGroupAsync(keys.Stream, ReservationStream.Group, "dead-worker", ">", 100);
            Assert.Equal(25, taken.Length);

            worker = await NodeAsync(connection, configure: n =>
            {
                n.Settings["role"] = "worker";
                n.Settings["FlashSales:Redis:ReclaimAfter"] = "00:00:01";
            }, shareStoresWith: api);
            await LedgerScenarios.EventuallyAsync(async () => await worker.OrdersOfSaleAsync(sale) == 25, "25 orders");
            await Task.Delay(500);
            Assert.Equal(25, await worker.OrdersOfSaleAsync(sale));
            Assert.Equal((25, 25, 25), await worker.StoredAsync(sale));
            Assert.Equal(0, (await redis.StreamPendingAsync(keys.Stream, ReservationStream.Group)).PendingMessageCount);
            Assert.Equal(0, await redis.StreamLengthAsync(keys.Stream));
            Assert.Equal(25, reserved.Distinct().Count());
        }
        finally
        {
            if (worker is not null)
            {
                await ((IAsyncLifetime)worker).DisposeAsync();
            }
            await ((IAsyncLifetime)api).DisposeAsync();
        }
    }

    private static int Count(List<(HttpStatusCode Status, string Body, DateTime At)> answers, HttpStatusCode status)
    {
        lock (answers)
        {
            return answers.Count(a => a.Status == status);
        }
    }

    private static async Task<string> DumpAsync(IDatabase redis, SaleKeys keys)
    {
        static string Hash(HashEntry[] entries) => string.Join(",", entries.OrderBy(e => (string)e.Name!, StringComparer.Ordinal).Select(e => $"{e.Name}={e.Value}"));
        var stream = await redis.StreamRangeAsync(keys.Stream, "-", "+");
        return string.Join(" | ",
            Hash(await redis.HashGetAllAsync(keys.Meta)), Hash(await redis.HashGetAllAsync(keys.Buyers)), Hash(await redis.HashGetAllAsync(keys.Reservations)),
            string.Join(",", stream.Select(e => e.Id)), (await redis.StreamPendingAsync(keys.Stream, ReservationStream.Group)).PendingMessageCount);
    }
}

/// <summary>The ledger contract on a 3-master Redis Cluster: every sale's keys in one slot, one script per call.</summary>
public sealed class RedisClusterLedgerTests
{
    /// <summary>A node whose cache and ledger are the Redis Cluster, a live sale on it, and the scenario run against them.</summary>
    private static async Task OnClusterAsync(int quantity, int perUserLimit, Func<FlashMallFactory, string, Task> scenario)
    {
        var node = new FlashMallFactory();
        await ((IAsyncLifetime)node).InitializeAsync();
        try
        {
            node.Settings["ConnectionStrings:Redis"] = TestEnvironment.RedisCluster;
            node.Settings["FlashSales:Ledger"] = "Redis";
            node.Settings["Ordering:ReservationPollInterval"] = "00:00:00.050";
            using var admin = await node.AdminClientAsync();
            Assert.Equal(3, node.Services.GetRequiredService<IConnectionMultiplexer>().GetEndPoints().Length);
            await scenario(node, await node.LiveSaleAsync(admin, quantity, perUserLimit));
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    [RedisClusterFact]
    public Task Five_thousand_buyers_at_once_on_100_units_get_exactly_100_reservations_and_100_orders() =>
        OnClusterAsync(100, 1, LedgerScenarios.StampedeAsync);

    [RedisClusterFact]
    public Task One_buyer_sending_200_parallel_requests_with_limit_2_gets_exactly_2() =>
        OnClusterAsync(50, 2, LedgerScenarios.GreedyBuyerAsync);

    [RedisClusterFact]
    public Task Retries_with_one_Idempotency_Key_reserve_once() =>
        OnClusterAsync(10, 3, LedgerScenarios.RetriesAsync);
}
