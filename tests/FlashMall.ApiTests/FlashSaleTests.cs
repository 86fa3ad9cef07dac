using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.FlashSales.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>Flash sales on the node's ledger (embedded on the SQLite run, Redis on the PostgreSQL run): creation, reads, and purchases under stampede.</summary>
public sealed class FlashSaleTests : IClassFixture<FlashMallFactory>
{
    private readonly FlashMallFactory _factory;

    public FlashSaleTests(FlashMallFactory factory) => _factory = factory;

    private async Task<(string SkuId, HttpClient Merchandiser)> SkuAsync(int stock, long price = 99_900)
    {
        var merchandiser = (await _factory.NewUserAsync("merchandiser")).Client;
        return (await _factory.SkuAsync(merchandiser, stock, price), merchandiser);
    }

    private async Task<string> LiveSaleAsync(int quantity, int perUserLimit) =>
        await _factory.LiveSaleAsync((await _factory.NewUserAsync("merchandiser")).Client, quantity, perUserLimit, salePrice: 9_900, price: 99_900);

    private HttpClient Buyer(Guid userId) => _factory.Buyer(userId);

    private static Task<HttpResponseMessage> PurchaseAsync(HttpClient buyer, string saleId, int quantity = 1, string? key = null) =>
        buyer.PurchaseAsync(saleId, quantity, key);

    private Task<(int Reservations, int Units, int Reserved)> StoredAsync(string saleId) => _factory.StoredAsync(saleId);

    [Fact]
    public async Task Five_thousand_buyers_at_once_on_100_units_get_exactly_100_reservations_and_100_orders()
    {
        var sale = await LiveSaleAsync(quantity: 100, perUserLimit: 1);
        await LedgerScenarios.StampedeAsync(_factory, sale);
        await Task.Delay(1_100); // reads are cached for a second
        var view = await (await _factory.CreateClient().GetAsync($"/api/flash-sales/{sale}")).JsonAsync();
        Assert.Equal(0, view.GetProperty("remaining").GetInt32());
        Assert.Equal("sold_out", view.GetProperty("status").GetString());
    }

    [Fact]
    public async Task One_buyer_sending_200_parallel_requests_with_limit_2_gets_exactly_2()
    {
        await LedgerScenarios.GreedyBuyerAsync(_factory, await LiveSaleAsync(quantity: 50, perUserLimit: 2));
    }

    [Fact]
    public async Task Retries_with_one_Idempotency_Key_reserve_once()
    {
        await LedgerScenarios.RetriesAsync(_factory, await LiveSaleAsync(quantity: 10, perUserLimit: 3));
    }

    /// <summary>Reservations are written by a multi-row insert, not by EF's change tracker: they read back exactly.</summary>
    [Fact]
    public async Task A_reservation_row_reads_back_exactly_as_written()
    {
        var sale = await LiveSaleAsync(quantity: 5, perUserLimit: 2);
        var buyerId = Guid.NewGuid();
        using var buyer = Buyer(buyerId);
        var before = DateTimeOffset.UtcNow;
        var id = Guid.Parse((await (await PurchaseAsync(buyer, sale, quantity: 2)).JsonAsync(HttpStatusCode.Accepted)).GetProperty("reservationId").GetString()!);

        await StoredAsync(sale);
        var row = await _factory.WithScopeAsync(s => s.GetRequiredService<FlashSalesDbContext>().Reservations.AsNoTracking().SingleAsync(r => r.Id == id));
        Assert.Equal(Guid.Parse(sale), row.SaleId);
        Assert.Equal(buyerId, row.UserId);
        Assert.Equal(2, row.Quantity);
        Assert.Contains(row.Status, new[] { "reserved", "ordered" });
        Assert.Equal(TimeSpan.Zero, row.CreatedAt.Offset);
        Assert.InRange(row.CreatedAt, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Null(row.ReleasedReason);
    }

    [Fact]
    public async Task A_reservation_is_visible_to_its_buyer_only()
    {
        var sale = await LiveSaleAsync(quantity: 5, perUserLimit: 1);
        using var buyer = Buyer(Guid.NewGuid());
        using var other = Buyer(Guid.NewGuid());
        var reserved = await (await PurchaseAsync(buyer, sale)).JsonAsync(HttpStatusCode.Accepted);
        var id = reserved.GetProperty("reservationId").GetString();

        var mine = await (await buyer.GetAsync($"/api/reservations/{id}")).JsonAsync();
        Assert.Equal("reserved", mine.GetProperty("status").GetString());
        await (await other.GetAsync($"/api/reservations/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await _factory.CreateClient().GetAsync($"/api/reservations/{id}")).EnsureStatusAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_sale_outside_its_window_refuses_with_not_started_or_ended_and_reserves_nothing()
    {
        var (sku, merchandiser) = await SkuAsync(stock: 20);
        var upcoming = (await (await merchandiser.PostAsJsonAsync("/api/admin/flash-sales", new
        {
            skuId = sku, salePrice = 9_900, quantity = 10, perUserLimit = 1,
            startsAt = DateTimeOffset.UtcNow.AddHours(1), endsAt = DateTimeOffset.UtcNow.AddHours(2),
        })).JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var endsAt = DateTimeOffset.UtcNow.AddSeconds(6);
        var ending = (await (await merchandiser.PostAsJsonAsync("/api/admin/flash-sales", new
        {
            skuId = sku, salePrice = 9_900, quantity = 10, perUserLimit = 2,
            startsAt = DateTimeOffset.UtcNow.AddSeconds(-5), endsAt,
        })).JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;
        using var buyer = Buyer(Guid.NewGuid());
        var kept = await (await PurchaseAsync(buyer, ending, key: "before-the-end")).JsonAsync(HttpStatusCode.Accepted);

        await (await PurchaseAsync(buyer, upcoming)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "not_started");
        while (DateTimeOffset.UtcNow < endsAt.AddMilliseconds(200))
        {
            await Task.Delay(100);
        }
        await (await PurchaseAsync(buyer, ending)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "ended");
        // A retry whose first answer was lost still finds its reservation after the end.
        using var retry = await PurchaseAsync(buyer, ending, key: "before-the-end");
        Assert.Equal(kept.GetProperty("reservationId").GetString(), (await retry.JsonAsync(HttpStatusCode.Accepted)).GetProperty("reservationId").GetString());
        await (await PurchaseAsync(buyer, Guid.NewGuid().ToString())).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await PurchaseAsync(buyer, "not-a-sale")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Equal((0, 0, 0), await StoredAsync(upcoming));
        Assert.Equal((1, 1, 1), await StoredAsync(ending));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1_000_000_000)]
    public async Task A_purchase_with_a_bad_quantity_is_refused_and_changes_nothing(int quantity)
    {
        var sale = await LiveSaleAsync(quantity: 5, perUserLimit: 1);
        using var buyer = Buyer(Guid.NewGuid());

        await (await PurchaseAsync(buyer, sale, quantity)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        using var text = await buyer.PostAsync($"/api/flash-sales/{sale}/purchase", new StringContent("{\"quantity\":\"1\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);
        Assert.Equal((0, 0, 0), await StoredAsync(sale));
    }

    [Fact]
    public async Task Creating_a_sale_validates_and_holds_back_the_skus_stock()
    {
        var (sku, merchandiser) = await SkuAsync(stock: 30, price: 10_000);
        var window = new { startsAt = DateTimeOffset.UtcNow.AddMinutes(5), endsAt = DateTimeOffset.UtcNow.AddMinutes(65) };

        var invalid = await merchandiser.PostAsJsonAsync("/api/admin/flash-sales", new
        {
            skuId = sku, salePrice = -1, quantity = 0, perUserLimit = 0, window.startsAt, endsAt = window.startsAt.AddMinutes(-1),
        });
        var problem = await invalid.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        foreach (var field in new[] { "salePrice", "quantity", "perUserLimit", "endsAt" })
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"no error for {field}");
        }
        var dearer = await merchandiser.PostAsJsonAsync("/api/admin/flash-sales", new { skuId = sku, salePrice = 10_001, quantity = 5, perUserLimit = 1, window.startsAt, window.endsAt });
        await dearer.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var tooMany = await merchandiser.PostAsJsonAsync("/api/admin/flash-sales", new { skuId = sku, salePrice = 5_000, quantity = 31, perUserLimit = 1, window.startsAt, window.endsAt });
        await tooMany.ShouldBeProblemAsync(HttpStatusCode.Conflict, "insufficient_stock");
        using var buyerClient = Buyer(Guid.NewGuid());
        var notAllowed = await buyerClient.PostAsJsonAsync("/api/admin/flash-sales", new { skuId = sku, salePrice = 5_000, quantity = 5, perUserLimit = 1, window.startsAt, window.endsAt });
        Assert.Equal(HttpStatusCode.Forbidden, notAllowed.StatusCode);

        var created = await merchandiser.PostAsJsonAsync("/api/admin/flash-sales", new { skuId = sku, salePrice = 5_000, quantity = 30, perUserLimit = 2, window.startsAt, window.endsAt });
        var id = (await created.JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString();
        var view = await (await _factory.CreateClient().GetAsync($"/api/flash-sales/{id}")).JsonAsync();
        Assert.Equal("upcoming", view.GetProperty("status").GetString());
        Assert.Equal(30, view.GetProperty("remaining").GetInt32());
        Assert.Equal(10_000, view.GetProperty("originalPrice").GetInt64());

        // All 30 units are held: a second sale of the same SKU finds none free.
        var second = await merchandiser.PostAsJsonAsync("/api/admin/flash-sales", new { skuId = sku, salePrice = 5_000, quantity = 1, perUserLimit = 1, window.startsAt, window.endsAt });
        await second.ShouldBeProblemAsync(HttpStatusCode.Conflict, "insufficient_stock");
        var upcoming = await (await _factory.CreateClient().GetAsync("/api/flash-sales?status=upcoming&pageSize=100")).JsonAsync();
        Assert.Contains(upcoming.GetProperty("items").EnumerateArray(), s => s.GetProperty("id").GetString() == id);
        await (await _factory.CreateClient().GetAsync("/api/flash-sales?status=everything")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Creating_a_sale_with_an_Idempotency_Key_holds_the_units_once_with_the_sale()
    {
        var (sku, merchandiser) = await SkuAsync(stock: 30, price: 10_000);
        var window = new { startsAt = DateTimeOffset.UtcNow.AddMinutes(5), endsAt = DateTimeOffset.UtcNow.AddMinutes(65) };
        var key = Guid.NewGuid().ToString();
        async Task<HttpResponseMessage> CreateAsync(int quantity, string idempotencyKey)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/admin/flash-sales")
            {
                Content = JsonContent.Create(new { skuId = sku, salePrice = 5_000, quantity, perUserLimit = 1, window.startsAt, window.endsAt }),
            };
            request.Headers.Add("Idempotency-Key", idempotencyKey);
            // The hold-back joins the key's transaction: no second writer waits on its lock (SQLite hung here for the busy timeout).
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            return await merchandiser.SendAsync(request, timeout.Token);
        }

        var first = (await (await CreateAsync(10, key)).JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString();
        var replay = await CreateAsync(10, key);
        Assert.Equal(first, (await replay.JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString());
        Assert.True(replay.Headers.Contains("Idempotent-Replayed"));
        // Held once: 20 units are free, not 10.
        await (await CreateAsync(21, Guid.NewGuid().ToString())).ShouldBeProblemAsync(HttpStatusCode.Conflict, "insufficient_stock");
        await (await CreateAsync(20, Guid.NewGuid().ToString())).JsonAsync(HttpStatusCode.Created);
        await (await CreateAsync(1, Guid.NewGuid().ToString())).ShouldBeProblemAsync(HttpStatusCode.Conflict, "insufficient_stock");
    }

    [Fact]
    public async Task Reconciliation_accounts_for_every_unit_and_reports_a_difference()
    {
        var sale = await LiveSaleAsync(quantity: 20, perUserLimit: 2);
        for (var i = 0; i < 3; i++)
        {
            using var buyer = Buyer(Guid.NewGuid());
            await (await PurchaseAsync(buyer, sale, quantity: 2)).EnsureStatusAsync(HttpStatusCode.Accepted);
        }
        using var operatorClient = (await _factory.NewUserAsync("operator")).Client;
        await StoredAsync(sale); // the Redis ledger's reservations are in the database

        var balanced = await (await operatorClient.GetAsync($"/api/admin/flash-sales/{sale}/reconciliation")).JsonAsync();
        Assert.True(balanced.GetProperty("balanced").GetBoolean());
        Assert.Equal(20, balanced.GetProperty("quantity").GetInt32());
        // The order worker may already have turned some reservations into orders.
        Assert.Equal(6, balanced.GetProperty("reserved").GetInt32() + balanced.GetProperty("ordered").GetInt32());
        Assert.Equal(14, balanced.GetProperty("remaining").GetInt32());

        // A unit goes missing behind the ledger's back (a bad manual fix in the database).
        await _factory.WithScopeAsync(services => services.GetRequiredService<FlashSalesDbContext>().Sales
            .Where(s => s.Id == Guid.Parse(sale)).ExecuteUpdateAsync(u => u.SetProperty(s => s.Reserved, s => s.Reserved + 1)));
        var broken = await (await operatorClient.GetAsync($"/api/admin/flash-sales/{sale}/reconciliation")).JsonAsync();
        Assert.False(broken.GetProperty("balanced").GetBoolean());
        Assert.Contains("reserved units 7", broken.GetProperty("differences")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains(_factory.Logs.Lines, l => l.Contains($"Flash sale {sale} does not reconcile", StringComparison.Ordinal));

        using var buyerClient = Buyer(Guid.NewGuid());
        Assert.Equal(HttpStatusCode.Forbidden, (await buyerClient.GetAsync($"/api/admin/flash-sales/{sale}/reconciliation")).StatusCode);
        await (await operatorClient.GetAsync($"/api/admin/flash-sales/{Guid.NewGuid()}/reconciliation")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
    }
    [Theory]
    [InlineData("256")]
    [InlineData("has space")]
    [InlineData("ключ")]
    public async Task A_malformed_Idempotency_Key_is_refused_and_reserves_nothing(string key)
    {
        var sale = await LiveSaleAsync(quantity: 5, perUserLimit: 1);
        using var buyer = Buyer(Guid.NewGuid());
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flash-sales/{sale}/purchase") { Content = JsonContent.Create(new { quantity = 1 }) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key == "256" ? new string('k', 256) : key);

        await (await buyer.SendAsync(request)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "idempotency_key_invalid");
        Assert.Equal((0, 0, 0), await StoredAsync(sale));
    }
}

/// <summary>What a node that starts afresh on the same store (a restart) knows of earlier purchases.</summary>
public sealed class FlashSaleRestartTests
{
    [Fact]
    public async Task An_Idempotency_Key_retry_after_a_restart_finds_the_same_reservation_and_reserves_nothing_more()
    {
        var first = new FlashMallFactory();
        await ((IAsyncLifetime)first).InitializeAsync();
        FlashMallFactory? second = null;
        try
        {
            var sale = await first.LiveSaleAsync((await first.NewUserAsync("merchandiser")).Client, quantity: 10, perUserLimit: 2);
            var buyer = Guid.NewGuid();
            var reserved = await (await PurchaseAsync(first, buyer, sale, 1, "tap-1")).JsonAsync(HttpStatusCode.Accepted);
            await first.DisposeAsync(); // the node stops; its store stays

            second = new SecondNodeFactory(first);
            await ((IAsyncLifetime)second).InitializeAsync();
            using var replay = await PurchaseAsync(second, buyer, sale, 1, "tap-1");
            Assert.Equal(reserved.GetProperty("reservationId").GetString(), (await replay.JsonAsync(HttpStatusCode.Accepted)).GetProperty("reservationId").GetString());
            Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
            await (await PurchaseAsync(second, buyer, sale, 2, "tap-1")).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");

            Assert.Equal((1, 1, 1), await second.StoredAsync(sale));
            var view = await (await second.CreateClient().GetAsync($"/api/flash-sales/{sale}")).JsonAsync();
            Assert.Equal(9, view.GetProperty("remaining").GetInt32());
        }
        finally
        {
            if (second is not null)
            {
                await ((IAsyncLifetime)second).DisposeAsync();
            }
            await ((IAsyncLifetime)first).DisposeAsync();
        }
    }

    /// <summary>
    /// Two nodes, each with its own embedded counters and journal, on one store (a
    /// misconfiguration the database must survive): the database never holds more than the units
    /// or a buyer past the limit, and every 202 is a reservation it has — held, or (a "yes" from a
    /// node's counters that the database refused when the journal was written behind) released
    /// with reason <c>gate_false_positive</c>, which the buyer sees when polling, as on the Redis ledger.
    /// </summary>
    [Fact]
    public async Task Two_nodes_with_embedded_ledgers_on_one_store_never_oversell_or_pass_the_limit()
    {
        var first = new FlashMallFactory();
        await ((IAsyncLifetime)first).InitializeAsync();
        first.Settings["FlashSales:Ledger"] = "InProcess";
        var second = new SecondNodeFactory(first);
        await ((IAsyncLifetime)second).InitializeAsync();
        second.Settings["FlashSales:Ledger"] = "InProcess";
        try
        {
            var sale = await first.LiveSaleAsync((await first.NewUserAsync("merchandiser")).Client, quantity: 10, perUserLimit: 2);

            // One greedy buyer on both nodes at once, then a crowd on both nodes.
            var greedy = Guid.NewGuid();
            var greedyAnswers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => PurchaseAsync(i % 2 == 0 ? first : second, greedy, sale, 1)));
            var crowd = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => PurchaseAsync(i % 2 == 0 ? first : second, Guid.NewGuid(), sale, 1)));
            var answered = new List<Guid>();
            foreach (var answer in greedyAnswers.Concat(crowd))
            {
                if (answer.StatusCode == HttpStatusCode.Accepted)
                {
                    answered.Add(Guid.Parse((await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reservationId").GetString()!));
                }
                else
                {
                    Assert.Equal(HttpStatusCode.Conflict, answer.StatusCode);
                }
            }
            await first.StoredAsync(sale);
            await second.StoredAsync(sale);

            var stored = await first.WithScopeAsync(async s =>
            {
                var db = s.GetRequiredService<FlashSalesDbContext>();
                var id = Guid.Parse(sale);
                var rows = await db.Reservations.Where(r => r.SaleId == id).ToListAsync();
                return (Rows: rows, Reserved: await db.Sales.Where(x => x.Id == id).Select(x => x.Reserved).SingleAsync());
            });
            var held = stored.Rows.Where(r => r.Status != "released").ToList();
            Assert.Equal(10, held.Sum(r => r.Quantity));
            Assert.Equal(10, stored.Reserved);
            Assert.InRange(held.Where(r => r.UserId == greedy).Sum(r => r.Quantity), 1, 2);
            Assert.True(answered.Count >= 10, $"only {answered.Count} buyers were told reserved");
            var byId = stored.Rows.ToDictionary(r => r.Id);
            Assert.All(answered, id =>
            {
                Assert.True(byId.TryGetValue(id, out var row), $"reservation {id} was answered and is not in the database");
                Assert.True(row!.Status != "released" || row.ReleasedReason == "gate_false_positive", $"reservation {id} is {row.Status} ({row.ReleasedReason})");
            });
            Assert.Equal(answered.Count, stored.Rows.Count);
        }
        finally
        {
            await ((IAsyncLifetime)second).DisposeAsync();
            await ((IAsyncLifetime)first).DisposeAsync();
        }
    }

    /// <summary>
    /// The embedded ledger holds at most <c>FlashSales:JournalMaxBacklog</c> answered reservations
    /// not yet written to the database: past it a buyer gets 503 with <c>Retry-After</c> and holds
    /// nothing, and every 202 becomes exactly one row. A limit of one makes a burst cross it.
    /// </summary>
    [Fact]
    public async Task Past_the_journal_backlog_limit_a_purchase_is_refused_with_503_and_reserves_nothing()
    {
        var node = new FlashMallFactory();
        await ((IAsyncLifetime)node).InitializeAsync();
        node.Settings["FlashSales:Ledger"] = "InProcess";
        node.Settings["FlashSales:JournalMaxBacklog"] = "1";
        try
        {
            var sale = await node.LiveSaleAsync((await node.NewUserAsync("merchandiser")).Client, quantity: 100, perUserLimit: 1);
            // Waves of buyers, each sent as the previous one is answered: the previous wave's
            // reservations are then on disk and (for the drain's 50 ms of gathering) not yet written.
            var answers = new List<HttpResponseMessage>();
            for (var wave = 0; wave < 10 && !answers.Any(a => a.StatusCode == HttpStatusCode.ServiceUnavailable); wave++)
            {
                answers.AddRange(await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => PurchaseAsync(node, Guid.NewGuid(), sale, 1))));
            }

            var busy = answers.Where(a => a.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
            Assert.NotEmpty(busy);
            foreach (var answer in busy)
            {
                Assert.Equal("service_unavailable", (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
                Assert.Equal("1", answer.Headers.RetryAfter?.ToString());
            }
            Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.ServiceUnavailable, $"unexpected {a.StatusCode}"));
            var accepted = answers.Count(a => a.StatusCode == HttpStatusCode.Accepted);
            var (rows, units, reserved) = await node.StoredAsync(sale);
            Assert.Equal(accepted, rows);
            Assert.Equal(accepted, units);
            Assert.Equal(accepted, reserved);
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    /// <summary>
    /// The embedded ledger's journal is one selling node's: a second node that sells refuses to
    /// start on the same journal folder, naming the fix; a node that does not sell (noncore) never
    /// opens it and starts beside the one that does.
    /// </summary>
    [Fact]
    public async Task A_second_selling_node_on_the_same_journal_does_not_start_and_a_noncore_node_does()
    {
        var first = new FlashMallFactory();
        await ((IAsyncLifetime)first).InitializeAsync();
        first.Settings["FlashSales:Ledger"] = "InProcess";
        var journal = first.Settings["FlashSales:JournalDirectory"]!;
        var second = new SecondNodeFactory(first);
        var noncore = new SecondNodeFactory(first);
        try
        {
            await (await first.CreateClient().GetAsync("/health/live")).EnsureStatusAsync(HttpStatusCode.OK); // started (ready also waits for the broker)

            await ((IAsyncLifetime)second).InitializeAsync();
            second.Settings["FlashSales:Ledger"] = "InProcess";
            second.Settings["FlashSales:JournalDirectory"] = journal;
            Assert.ThrowsAny<Exception>(() => second.CreateClient());
            Assert.True(second.Logs.Lines.Any(l => l.Contains("is held by another process", StringComparison.Ordinal)), second.Logs.All);

            await ((IAsyncLifetime)noncore).InitializeAsync();
            noncore.Settings["FlashSales:Ledger"] = "InProcess";
            noncore.Settings["FlashSales:JournalDirectory"] = journal;
            noncore.Settings["role"] = "noncore";
            await (await noncore.CreateClient().GetAsync("/health/live")).EnsureStatusAsync(HttpStatusCode.OK);
        }
        finally
        {
            await ((IAsyncLifetime)noncore).DisposeAsync();
            try
            {
                await ((IAsyncLifetime)second).DisposeAsync();
            }
            catch (Exception)
            {
                // It never started.
            }
            await ((IAsyncLifetime)first).DisposeAsync();
        }
    }

    /// <summary>
    /// The journal does not grow with the traffic: with 4 KB segments, 200 purchases fill several,
    /// and once their rows are written only the segment being appended to is left. A restart on
    /// the same journal recovers it without writing anything twice.
    /// </summary>
    [Fact]
    public async Task Journal_segments_are_deleted_once_written_and_a_restart_writes_nothing_twice()
    {
        var first = new FlashMallFactory();
        await ((IAsyncLifetime)first).InitializeAsync();
        first.Settings["FlashSales:Ledger"] = "InProcess";
        first.Settings["FlashSales:JournalSegmentBytes"] = "4096";
        var journal = first.Settings["FlashSales:JournalDirectory"]!;
        SecondNodeFactory? restarted = null;
        try
        {
            var sale = await first.LiveSaleAsync((await first.NewUserAsync("merchandiser")).Client, quantity: 300, perUserLimit: 1);
            for (var wave = 0; wave < 10; wave++)
            {
                var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => PurchaseAsync(first, Guid.NewGuid(), sale, 1)));
                Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));
            }
            Assert.Equal((200, 200, 200), await first.StoredAsync(sale));
            var segments = Directory.GetFiles(journal, "reservations-*.journal");
            Assert.Single(segments);
            Assert.True(long.Parse(Path.GetFileName(segments[0])["reservations-".Length..^".journal".Length], System.Globalization.CultureInfo.InvariantCulture) > 2,
                $"200 purchases in 4 KB segments should have filled several: {segments[0]}");

            await first.DisposeAsync(); // the node stops; its store and journal stay
            restarted = new SecondNodeFactory(first);
            await ((IAsyncLifetime)restarted).InitializeAsync();
            restarted.Settings["FlashSales:Ledger"] = "InProcess";
            restarted.Settings["FlashSales:JournalDirectory"] = journal;
            var again = await PurchaseAsync(restarted, Guid.NewGuid(), sale, 1);
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
            Assert.Equal((201, 201, 201), await restarted.StoredAsync(sale));
        }
        finally
        {
            if (restarted is not null)
            {
                await ((IAsyncLifetime)restarted).DisposeAsync();
            }
            await ((IAsyncLifetime)first).DisposeAsync();
        }
    }

    [Fact]
    public async Task The_counters_of_a_sale_ended_over_an_hour_ago_are_dropped_from_memory()
    {
        var first = new FlashMallFactory();
        await ((IAsyncLifetime)first).InitializeAsync();
        SecondNodeFactory? node = null;
        try
        {
            var sale = Guid.Parse(await first.LiveSaleAsync((await first.NewUserAsync("merchandiser")).Client, quantity: 5, perUserLimit: 1));
            // Held two hours ago (terms never change once a node knows them, so the node that
            // looks at it starts afterwards): its end is long past when that node first hears of it.
            await first.WithScopeAsync(s => s.GetRequiredService<FlashSalesDbContext>().Sales.Where(x => x.Id == sale)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.StartsAt, DateTimeOffset.UtcNow.AddHours(-3)).SetProperty(x => x.EndsAt, DateTimeOffset.UtcNow.AddHours(-2))));
            await first.DisposeAsync();
            node = new SecondNodeFactory(first);
            await ((IAsyncLifetime)node).InitializeAsync();
            var ledger = node.Services.GetRequiredService<FlashMall.FlashSales.Ledger.IStockLedger>();
            using var operatorClient = (await node.NewUserAsync("operator")).Client;
            await (await operatorClient.GetAsync($"/api/admin/flash-sales/{sale}/reconciliation")).EnsureStatusAsync(HttpStatusCode.OK);
            Assert.Contains(sale, ledger.LoadedSales);

            using var admin = await node.AdminClientAsync();
            await (await admin.PostAsync("/api/admin/jobs/flash-sales.warm-upcoming/run", null)).EnsureStatusAsync(HttpStatusCode.OK);

            Assert.DoesNotContain(sale, ledger.LoadedSales);
        }
        finally
        {
            if (node is not null)
            {
                await ((IAsyncLifetime)node).DisposeAsync();
            }
            await ((IAsyncLifetime)first).DisposeAsync();
        }
    }

    private static Task<HttpResponseMessage> PurchaseAsync(FlashMallFactory node, Guid buyer, string sale, int quantity)
    {
        var client = node.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", node.BuyerToken(buyer));
        return client.PostAsJsonAsync($"/api/flash-sales/{sale}/purchase", new { quantity });
    }

    private static Task<HttpResponseMessage> PurchaseAsync(FlashMallFactory node, Guid buyer, string sale, int quantity, string key)
    {
        var client = node.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", node.BuyerToken(buyer));
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flash-sales/{sale}/purchase") { Content = JsonContent.Create(new { quantity }) };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }
}
