using System.Net;
using System.Text.Json;
using FlashMall.ApiTests.Infrastructure;

namespace FlashMall.ApiTests;

/// <summary>
/// The read/write split on a real primary and streaming replica (test.sh starts both): which
/// server ran each command is asked of that very connection (<c>pg_is_in_recovery()</c>, see
/// <see cref="ServedByRecorder"/>). The tests run one after another (one class): one pauses the
/// replica's replay, another stops the replica.
/// </summary>
public sealed class ReplicaTests(ReplicaFactory node) : IClassFixture<ReplicaFactory>
{
    [PostgresReplicaFact]
    public async Task Lag_tolerant_reads_run_on_the_replica_and_writes_on_the_primary()
    {
        await node.WaitForRoutingAsync(toReplicas: true);
        var (product, categoryId) = await CreateProductAsync();
        await node.WaitOnReplicaAsync($"SELECT count(*) FROM catalog.products WHERE id = '{product}'");

        using var anonymous = node.CreateClient();
        var (detailTrace, detailHeader) = TraceContext.New();
        var detail = await (await anonymous.GetTracedAsync($"/api/products/{product}", detailHeader)).JsonAsync();
        Assert.Equal(product, detail.GetProperty("id").GetString());
        AssertAllOn(replica: true, node.Served.Of(detailTrace), "GET /api/products/{id}");

        var (listTrace, listHeader) = TraceContext.New();
        var list = await (await anonymous.GetTracedAsync($"/api/products?categoryId={categoryId}", listHeader)).JsonAsync();
        Assert.Equal(product, Assert.Single(list.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        AssertAllOn(replica: true, node.Served.Of(listTrace), "GET /api/products");

        var (feedTrace, feedHeader) = TraceContext.New();
        await (await anonymous.GetTracedAsync("/api/circle/feed", feedHeader)).JsonAsync();
        AssertAllOn(replica: true, node.Served.Of(feedTrace), "GET /api/circle/feed");

        // Read-your-writes paths stay on the primary: the buyer's own order list.
        var buyer = await node.NewUserAsync();
        var (ordersTrace, ordersHeader) = TraceContext.New();
        await (await buyer.Client.GetTracedAsync("/api/orders", ordersHeader)).JsonAsync();
        AssertAllOn(replica: false, node.Served.Of(ordersTrace), "GET /api/orders");
    }

    [PostgresReplicaFact]
    public async Task A_replica_lagging_past_the_threshold_sends_reads_to_the_primary_until_it_catches_up()
    {
        await node.WaitForRoutingAsync(toReplicas: true);
        await node.OnReplicaAsync("SELECT pg_wal_replay_pause()");
        string product;
        try
        {
            // A write the paused replica cannot replay: its lag grows past Database:MaxReplicaLag (1 s).
            (product, _) = await CreateProductAsync();
            var lagging = await node.WaitForRoutingAsync(toReplicas: false);
            Assert.Contains("lag", lagging.GetProperty("reason").GetString(), StringComparison.Ordinal);
            var replicaView = lagging.GetProperty("servers").EnumerateArray().Single(s => s.GetProperty("inRecovery").ValueKind == JsonValueKind.True);
            Assert.True(replicaView.GetProperty("lagMs").GetDouble() > 1000, replicaView.ToString());
            Assert.True(replicaView.GetProperty("replayPaused").GetBoolean());

            // The replica does not have the product: only the primary can answer 200 here.
            using var anonymous = node.CreateClient();
            var (trace, header) = TraceContext.New();
            var detail = await (await anonymous.GetTracedAsync($"/api/products/{product}", header)).JsonAsync();
            Assert.Equal(product, detail.GetProperty("id").GetString());
            AssertAllOn(replica: false, node.Served.Of(trace), "GET /api/products/{id} while the replica lags");
        }
        finally
        {
            await node.OnReplicaAsync("SELECT pg_wal_replay_resume()");
        }

        // Caught up: reads go back to the replica.
        await node.WaitForRoutingAsync(toReplicas: true);
        await node.WaitOnReplicaAsync($"SELECT count(*) FROM catalog.products WHERE id = '{product}'");
        await FeedServedByReplicaAsync("GET /api/circle/feed after catching up");
    }

    /// <summary>
    /// Reads the feed until a read lands on the replica (Npgsql retries a host it marked offline
    /// after Host Recheck Seconds, 1 s here) and asserts it does within 10 s.
    /// </summary>
    private async Task FeedServedByReplicaAsync(string what)
    {
        using var client = node.CreateClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var (trace, header) = TraceContext.New();
            await (await client.GetTracedAsync("/api/circle/feed?pageSize=5", header)).JsonAsync();
            var commands = node.Served.Of(trace);
            if (commands.Count > 0 && commands.All(c => c.OnReplica == true) || DateTime.UtcNow > deadline)
            {
                AssertAllOn(replica: true, commands, what);
                return;
            }
            await Task.Delay(250);
        }
    }

    [PostgresReplicaFact]
    public async Task With_the_replica_stopped_reads_still_work_from_the_primary()
    {
        await node.WaitForRoutingAsync(toReplicas: true);
        var (product, categoryId) = await CreateProductAsync();
        await node.WaitOnReplicaAsync($"SELECT count(*) FROM catalog.products WHERE id = '{product}'");
        await ReplicaEnvironment.ControlAsync("stop");
        try
        {
            // At once (before the lag check notices): the replica context's connection falls over to the primary.
            using var anonymous = node.CreateClient();
            var (trace, header) = TraceContext.New();
            var detail = await (await anonymous.GetTracedAsync($"/api/products/{product}", header)).JsonAsync();
            Assert.Equal(product, detail.GetProperty("id").GetString());
            AssertAllOn(replica: false, node.Served.Of(trace), "GET /api/products/{id} with the replica stopped");

            var view = await node.WaitForRoutingAsync(toReplicas: false);
            Assert.Equal("no replica answers", view.GetProperty("reason").GetString());
            Assert.Contains(view.GetProperty("servers").EnumerateArray(), s => !s.GetProperty("reachable").GetBoolean());

            var (listTrace, listHeader) = TraceContext.New();
            var list = await (await anonymous.GetTracedAsync($"/api/products?categoryId={categoryId}", listHeader)).JsonAsync();
            Assert.Equal(1, list.GetProperty("total").GetInt32());
            AssertAllOn(replica: false, node.Served.Of(listTrace), "GET /api/products with the replica stopped");
            var (feedTrace, feedHeader) = TraceContext.New();
            (await anonymous.GetTracedAsync("/api/circle/feed", feedHeader)).EnsureSuccessStatusCode();
            AssertAllOn(replica: false, node.Served.Of(feedTrace), "GET /api/circle/feed with the replica stopped");
        }
        finally
        {
            await ReplicaEnvironment.ControlAsync("start");
        }
        await node.WaitForRoutingAsync(toReplicas: true, TimeSpan.FromSeconds(30));
        await FeedServedByReplicaAsync("GET /api/circle/feed once the replica is back");
    }

    [PostgresReplicaFact]
    public async Task The_replica_view_is_for_operators_only()
    {
        using var anonymous = node.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/admin/database/replicas")).StatusCode);
        var buyer = await node.NewUserAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await buyer.Client.GetAsync("/api/admin/database/replicas")).StatusCode);
    }

    /// <summary>A product created through the admin API; every command of that request ran on the primary.</summary>
    private async Task<(string Product, string Category)> CreateProductAsync()
    {
        var categoryId = await node.CategoryAsync();
        var merchandiser = await node.NewUserAsync("merchandiser");
        var (trace, header) = TraceContext.New();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/admin/products")
        {
            Content = JsonContent(CatalogHelpers.ProductBody(categoryId, name: $"Replica test {Guid.NewGuid():N}")),
        };
        request.Headers.Add("traceparent", header);
        var created = await (await merchandiser.Client.SendAsync(request)).JsonAsync(HttpStatusCode.Created);
        var writes = node.Served.Of(trace);
        Assert.Contains(writes, c => c.Sql.Contains("INSERT INTO catalog.products", StringComparison.OrdinalIgnoreCase));
        AssertAllOn(replica: false, writes, "POST /api/admin/products");
        return (created.GetProperty("id").GetString()!, categoryId);
    }

    private static System.Net.Http.Json.JsonContent JsonContent(object body) => System.Net.Http.Json.JsonContent.Create(body);

    private static void AssertAllOn(bool replica, IReadOnlyList<ServedCommand> commands, string what)
    {
        Assert.True(commands.Count > 0, $"{what}: no database command was recorded for its trace");
        var wrong = commands.Where(c => c.OnReplica != replica).ToList();
        Assert.True(wrong.Count == 0,
            $"{what}: expected every command on the {(replica ? "replica" : "primary")}, but these were not:{Environment.NewLine}"
            + string.Join(Environment.NewLine, wrong.Select(c => $"[{c.Server} in recovery: {c.OnReplica}] {c.Sql}")));
    }
}
