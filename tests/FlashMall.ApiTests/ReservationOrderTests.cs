using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Ordering.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>Flash-sale reservations become orders: exactly one each, whatever stops or doubles the worker.</summary>
public sealed class ReservationOrderTests
{
    private static async Task<FlashMallFactory> StartAsync(FlashMallFactory node, string role)
    {
        await ((IAsyncLifetime)node).InitializeAsync();
        node.Settings["role"] = role;
        node.Settings["Ordering:ReservationPollInterval"] = "00:00:00.050";
        node.CreateClient().Dispose();
        return node;
    }

    private static async Task<string> LiveSaleAsync(FlashMallFactory node, int quantity)
    {
        using var admin = await node.AdminClientAsync();
        return await node.LiveSaleAsync(admin, quantity, perUserLimit: 1, salePrice: 12_300, price: 20_000);
    }

    private static HttpClient Buyer(FlashMallFactory node, Guid buyer)
    {
        var client = node.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", node.BuyerToken(buyer));
        return client;
    }

    private static async Task<List<(Guid Buyer, string ReservationId)>> BuyAsync(FlashMallFactory node, string sale, int buyers)
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, buyers).Select(async _ =>
        {
            var buyer = Guid.NewGuid();
            using var client = Buyer(node, buyer);
            using var response = await client.PostAsJsonAsync($"/api/flash-sales/{sale}/purchase", new { quantity = 1 });
            return response.StatusCode == HttpStatusCode.Accepted
                ? (buyer, (await response.JsonAsync(HttpStatusCode.Accepted)).GetProperty("reservationId").GetString())
                : (buyer, null);
        }));
        return [.. answers.Where(a => a.Item2 is not null).Select(a => (a.buyer, a.Item2!))];
    }

    private static Task EventuallyAsync(Func<Task<bool>> condition, string what) => LedgerScenarios.EventuallyAsync(condition, what);

    [Fact]
    public async Task Every_reservation_becomes_exactly_one_pending_order_its_buyer_can_see()
    {
        var node = await StartAsync(new FlashMallFactory(), "all");
        try
        {
            var sale = await LiveSaleAsync(node, quantity: 30);
            var reserved = await BuyAsync(node, sale, buyers: 60);
            Assert.Equal(30, reserved.Count);

            await EventuallyAsync(async () => await node.WithScopeAsync(s => s.GetRequiredService<OrderingDbContext>().Orders.CountAsync()) == 30, "30 orders");
            foreach (var (buyer, reservationId) in reserved.Take(5))
            {
                using var client = Buyer(node, buyer);
                JsonElementHolder reservation = default;
                await EventuallyAsync(async () =>
                {
                    reservation = new(await (await client.GetAsync($"/api/reservations/{reservationId}")).JsonAsync());
                    return reservation.Value.GetProperty("status").GetString() == "ordered";
                }, "the reservation marked ordered");
                var orderId = reservation.Value.GetProperty("orderId").GetString();
                var order = await (await client.GetAsync($"/api/orders/{orderId}")).JsonAsync();
                Assert.Equal("pending_payment", order.GetProperty("status").GetString());
                Assert.Equal(12_300, order.GetProperty("total").GetInt64());
                Assert.Equal(12_300, order.GetProperty("subtotal").GetInt64());
                Assert.Equal(0, order.GetProperty("discount").GetInt64());
                Assert.Equal(sale, order.GetProperty("flashSaleId").GetString());
                Assert.InRange(order.GetProperty("payBefore").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(14), DateTimeOffset.UtcNow.AddMinutes(16));
                var mine = await (await client.GetAsync("/api/orders?status=pending_payment")).JsonAsync();
                Assert.Equal(1, mine.GetProperty("total").GetInt32());
                using var stranger = Buyer(node, Guid.NewGuid());
                await (await stranger.GetAsync($"/api/orders/{orderId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
            }
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    /// <summary>
    /// Reservations pile up on a node with no worker; then two workers start on the same store
    /// at once, and one of them is stopped mid-drain: each reservation still gets exactly one order.
    /// </summary>
    [Fact]
    public async Task Two_workers_and_a_stopped_one_still_give_each_reservation_exactly_one_order()
    {
        var core = await StartAsync(new FlashMallFactory(), "core");
        FlashMallFactory? first = null;
        FlashMallFactory? second = null;
        try
        {
            // A core node serves no admin tools (421 wrong_role): the sale is set up through a non-core node on the same database.
            string sale;
            var tools = new SecondNodeFactory(core);
            try
            {
                await StartAsync(tools, "noncore");
                using var coreAdmin = await core.AdminClientAsync(); // logging in is core
                using var admin = tools.ClientWithToken(coreAdmin.DefaultRequestHeaders.Authorization!.Parameter!);
                sale = await tools.LiveSaleAsync(admin, 300, perUserLimit: 1, salePrice: 12_300, price: 20_000);
            }
            finally
            {
                await ((IAsyncLifetime)tools).DisposeAsync();
            }
            var reserved = await BuyAsync(core, sale, buyers: 300);
            Assert.Equal(300, reserved.Count);
            await Task.Delay(300);
            Assert.Equal(0, await core.WithScopeAsync(s => s.GetRequiredService<OrderingDbContext>().Orders.CountAsync()));

            first = new SecondNodeFactory(core);
            second = new SecondNodeFactory(core);
            await Task.WhenAll(StartAsync(first, "worker"), StartAsync(second, "worker"));
            await EventuallyAsync(async () => await core.WithScopeAsync(s => s.GetRequiredService<OrderingDbContext>().Orders.CountAsync()) > 0, "the first orders");
            await ((IAsyncLifetime)first).DisposeAsync(); // stopped mid-drain
            first = null;

            await EventuallyAsync(async () => await core.WithScopeAsync(s => s.GetRequiredService<OrderingDbContext>().Orders.CountAsync()) == 300, "300 orders");
            await EventuallyAsync(async () => await core.WithScopeAsync(s => s.GetRequiredService<FlashMall.FlashSales.Persistence.FlashSalesDbContext>()
                .Reservations.CountAsync(r => r.Status == "ordered")) == 300, "300 reservations ordered");
            var orders = await core.WithScopeAsync(s => s.GetRequiredService<OrderingDbContext>().Orders.AsNoTracking().ToListAsync());
            Assert.Equal(300, orders.Select(o => o.ReservationId).Distinct().Count());
            Assert.Equal(reserved.Select(r => r.ReservationId).Order(), orders.Select(o => o.ReservationId!.Value.ToString()).Order());
        }
        finally
        {
            foreach (var node in new[] { first, second, core })
            {
                if (node is not null)
                {
                    await ((IAsyncLifetime)node).DisposeAsync();
                }
            }
        }
    }

    private static async Task<string> OrderIdAsync(HttpClient buyer, string reservationId)
    {
        string? orderId = null;
        await EventuallyAsync(async () =>
        {
            var reservation = await (await buyer.GetAsync($"/api/reservations/{reservationId}")).JsonAsync();
            orderId = reservation.GetProperty("status").GetString() == "ordered" ? reservation.GetProperty("orderId").GetString() : null;
            return orderId is not null;
        }, "the order");
        return orderId!;
    }

    private static Task<HttpResponseMessage> KeyedPurchaseAsync(HttpClient buyer, string sale, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flash-sales/{sale}/purchase") { Content = JsonContent.Create(new { quantity = 1 }) };
        request.Headers.Add("Idempotency-Key", key);
        return buyer.SendAsync(request);
    }

    private static async Task<int> RemainingAsync(FlashMallFactory node, string sale)
    {
        await Task.Delay(1_100); // sale reads are cached for a second
        return (await (await node.CreateClient().GetAsync($"/api/flash-sales/{sale}")).JsonAsync()).GetProperty("remaining").GetInt32();
    }

    [Fact]
    public async Task A_buyer_cancelling_an_unpaid_order_gives_the_unit_back_once_and_may_buy_again()
    {
        var node = await StartAsync(new FlashMallFactory(), "all");
        try
        {
            var sale = await LiveSaleAsync(node, quantity: 1);
            var buyer = Guid.NewGuid();
            using var client = Buyer(node, buyer);
            var first = (await (await KeyedPurchaseAsync(client, sale, "k1")).JsonAsync(HttpStatusCode.Accepted)).GetProperty("reservationId").GetString()!;
            var orderId = await OrderIdAsync(client, first);
            using var stranger = Buyer(node, Guid.NewGuid());
            await (await stranger.PostAsync($"/api/orders/{orderId}/cancel", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
            await (await stranger.PostAsJsonAsync($"/api/flash-sales/{sale}/purchase", new { quantity = 1 })).ShouldBeProblemAsync(HttpStatusCode.Conflict, "sold_out");

            var cancelled = await (await client.PostAsync($"/api/orders/{orderId}/cancel", null)).JsonAsync();
            Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
            await (await client.PostAsync($"/api/orders/{orderId}/cancel", null)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid_transition");
            await EventuallyAsync(async () =>
                (await (await client.GetAsync($"/api/reservations/{first}")).JsonAsync()).GetProperty("status").GetString() == "released", "the release");
            Assert.Equal(1, await RemainingAsync(node, sale));

            // A late retry of the first purchase answers the same reservation and takes nothing.
            using var retry = await KeyedPurchaseAsync(client, sale, "k1");
            Assert.Equal(first, (await retry.JsonAsync(HttpStatusCode.Accepted)).GetProperty("reservationId").GetString());
            Assert.Equal(1, await RemainingAsync(node, sale));

            // The unit and the buyer's share are back: the same buyer (limit 1) buys it again.
            await (await client.PostAsJsonAsync($"/api/flash-sales/{sale}/purchase", new { quantity = 1 })).EnsureStatusAsync(HttpStatusCode.Accepted);
            Assert.Equal(0, await RemainingAsync(node, sale));
            using var operatorClient = (await node.NewUserAsync("operator")).Client;
            var reconciliation = await (await operatorClient.GetAsync($"/api/admin/flash-sales/{sale}/reconciliation")).JsonAsync();
            Assert.True(reconciliation.GetProperty("balanced").GetBoolean(), reconciliation.ToString());
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    [Fact]
    public async Task An_order_unpaid_past_its_deadline_is_cancelled_and_its_unit_can_be_bought_again()
    {
        var node = await StartAsync(new FlashMallFactory(), "all");
        try
        {
            var sale = await LiveSaleAsync(node, quantity: 1);
            using var client = Buyer(node, Guid.NewGuid());
            var reservation = (await (await client.PostAsJsonAsync($"/api/flash-sales/{sale}/purchase", new { quantity = 1 })).JsonAsync(HttpStatusCode.Accepted))
                .GetProperty("reservationId").GetString()!;
            var orderId = await OrderIdAsync(client, reservation);
            await node.WithScopeAsync(s => s.GetRequiredService<OrderingDbContext>().Orders.Where(o => o.Id == Guid.Parse(orderId))
                .ExecuteUpdateAsync(u => u.SetProperty(o => o.PayBefore, DateTimeOffset.UtcNow.AddSeconds(-1))));

            using var admin = await node.AdminClientAsync();
            await (await admin.PostAsync("/api/admin/jobs/ordering.expire-unpaid/run", null)).EnsureStatusAsync(HttpStatusCode.OK);

            var order = await (await client.GetAsync($"/api/orders/{orderId}")).JsonAsync();
            Assert.Equal("cancelled", order.GetProperty("status").GetString());
            await EventuallyAsync(async () =>
                (await (await client.GetAsync($"/api/reservations/{reservation}")).JsonAsync()).GetProperty("status").GetString() == "released", "the release");
            // The counters get the unit back just after the release commits.
            using var next = Buyer(node, Guid.NewGuid());
            await EventuallyAsync(async () =>
            {
                using var bought = await next.PostAsJsonAsync($"/api/flash-sales/{sale}/purchase", new { quantity = 1 });
                return bought.StatusCode == HttpStatusCode.Accepted;
            }, "the unit on sale again");

            // The OrderCancelled event delivered again changes nothing.
            await node.WithScopeAsync(s => s.GetRequiredService<OrderingDbContext>().Set<FlashMall.Kernel.Messaging.OutboxMessage>()
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.SentAt, (DateTimeOffset?)null)));
            await EventuallyAsync(async () => await node.WithScopeAsync(s => s.GetRequiredService<OrderingDbContext>().Set<FlashMall.Kernel.Messaging.OutboxMessage>()
                .AllAsync(m => m.SentAt != null)), "the event sent again");
            Assert.Equal(0, await RemainingAsync(node, sale));
            using var operatorClient = (await node.NewUserAsync("operator")).Client;
            var reconciliation = await (await operatorClient.GetAsync($"/api/admin/flash-sales/{sale}/reconciliation")).JsonAsync();
            Assert.True(reconciliation.GetProperty("balanced").GetBoolean(), reconciliation.ToString());
        }
        finally
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
    }

    private readonly record struct JsonElementHolder(System.Text.Json.JsonElement Value);
}
