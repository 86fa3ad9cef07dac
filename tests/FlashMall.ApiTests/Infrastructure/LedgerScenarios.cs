using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FlashMall.FlashSales.Ledger;
using FlashMall.FlashSales.Persistence;
using FlashMall.Ordering.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests.Infrastructure;

/// <summary>
/// The stock ledger's contract, as buyers see it, run against whichever ledger a node uses: the
/// embedded one (SQLite run), Redis (PostgreSQL run) and a 3-master Redis Cluster.
/// </summary>
public static class LedgerScenarios
{
    public static HttpClient Buyer(this FlashMallFactory node, Guid userId)
    {
        var client = node.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", node.BuyerToken(userId));
        return client;
    }

    public static Task<HttpResponseMessage> PurchaseAsync(this HttpClient buyer, string saleId, int quantity = 1, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flash-sales/{saleId}/purchase") { Content = JsonContent.Create(new { quantity }) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }
        return buyer.SendAsync(request);
    }

    /// <summary>
    /// The sale's reservations in the database once the ledger has none in flight (the Redis
    /// ledger answers before its stream is written): rows, their units, and the sale's reserved column.
    /// </summary>
    public static async Task<(int Reservations, int Units, int Reserved)> StoredAsync(this FlashMallFactory node, string saleId, bool countReleased = true)
    {
        var id = Guid.Parse(saleId);
        var ledger = node.Services.GetRequiredService<IStockLedger>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await ledger.CountAsync(id, CancellationToken.None))?.InFlight > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the ledger still had reservations in flight after 20 s");
            await Task.Delay(20);
        }
        return await node.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<FlashSalesDbContext>();
            var reservations = await db.Reservations.Where(r => r.SaleId == id && (countReleased || r.Status != "released")).ToListAsync();
            var reserved = await db.Sales.Where(s => s.Id == id).Select(s => s.Reserved).SingleAsync();
            return (reservations.Count, reservations.Sum(r => r.Quantity), reserved);
        });
    }

    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    public static Task<int> OrdersOfSaleAsync(this FlashMallFactory node, string saleId) => node.WithScopeAsync(services =>
    {
        var id = Guid.Parse(saleId);
        return services.GetRequiredService<OrderingDbContext>().Orders.CountAsync(o => o.FlashSaleId == id);
    });

    /// <summary>5,000 distinct buyers at once on 100 units: exactly 100 reservations, then exactly 100 orders; 0 oversell.</summary>
    public static async Task StampedeAsync(FlashMallFactory node, string sale)
    {
        var buyers = Enumerable.Range(0, 5_000).Select(_ => node.Buyer(Guid.NewGuid())).ToList();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var purchases = buyers.Select(b => Task.Run(async () =>
        {
            await start.Task;
            using var response = await b.PurchaseAsync(sale);
            return (Status: response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        })).ToList();
        start.SetResult();
        var answers = await Task.WhenAll(purchases);

        Assert.Equal(100, answers.Count(a => a.Status == HttpStatusCode.Accepted));
        Assert.Equal(4_900, answers.Count(a => a.Status == HttpStatusCode.Conflict && a.Body.Contains("\"sold_out\"", StringComparison.Ordinal)));
        Assert.Equal((100, 100, 100), await node.StoredAsync(sale));
        await EventuallyAsync(async () => await node.OrdersOfSaleAsync(sale) >= 100, "100 orders");
        await Task.Delay(300); // a 101st order would show up by now
        Assert.Equal(100, await node.OrdersOfSaleAsync(sale));
        foreach (var buyer in buyers)
        {
            buyer.Dispose();
        }
    }

    /// <summary>One buyer, 200 parallel requests, limit 2: exactly 2 reserved, the rest <c>limit_reached</c>.</summary>
    public static async Task GreedyBuyerAsync(FlashMallFactory node, string sale)
    {
        using var buyer = node.Buyer(Guid.NewGuid());
        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(async () =>
        {
            using var response = await buyer.PurchaseAsync(sale);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        })));

        Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.Accepted));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Accepted), a =>
        {
            Assert.Equal(HttpStatusCode.Conflict, a.StatusCode);
            Assert.Contains("\"limit_reached\"", a.Item2, StringComparison.Ordinal);
        });
        Assert.Equal((2, 2, 2), await node.StoredAsync(sale));
    }

    /// <summary>30 parallel retries and a late one with one Idempotency-Key: one reservation; the key with another quantity is refused.</summary>
    public static async Task RetriesAsync(FlashMallFactory node, string sale)
    {
        using var buyer = node.Buyer(Guid.NewGuid());
        var key = $"tap-{Guid.NewGuid():N}";

        var parallel = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => Task.Run(async () =>
        {
            using var response = await buyer.PurchaseAsync(sale, key: key);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        })));
        using var later = await buyer.PurchaseAsync(sale, key: key);
        var replay = await later.JsonAsync(HttpStatusCode.Accepted);

        Assert.Equal("true", later.Headers.GetValues("Idempotent-Replayed").Single());
        var ids = parallel.Where(a => a.StatusCode == HttpStatusCode.Accepted)
            .Select(a => JsonDocument.Parse(a.Item2).RootElement.GetProperty("reservationId").GetString()).Distinct().ToList();
        Assert.Equal([replay.GetProperty("reservationId").GetString()], ids);
        // The embedded ledger answers "in flight" while the first one commits; Redis's script replays at once.
        Assert.All(parallel.Where(a => a.StatusCode != HttpStatusCode.Accepted), a =>
            Assert.Contains("\"idempotency_in_flight\"", a.Item2, StringComparison.Ordinal));
        Assert.Equal((1, 1, 1), await node.StoredAsync(sale));

        using var otherBody = await buyer.PurchaseAsync(sale, quantity: 2, key: key);
        await otherBody.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        Assert.Equal((1, 1, 1), await node.StoredAsync(sale));
    }
}
