using System.Net;
using System.Net.Sockets;
using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Payments.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>A free loopback port: nothing listens on it until someone binds it.</summary>
internal static class FreePort
{
    public static int Next()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

/// <summary>The provider's webhooks cannot reach the node: nothing listens where they are sent.</summary>
public sealed class LostWebhooksFactory : PaymentsFactory
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Payments:NotifyUrl"] = $"http://127.0.0.1:{FreePort.Next()}/api/payments/webhook";
        // Long enough that no scheduled reconciliation settles the payment before the test looks.
        Settings["Payments:Reconciliation:After"] = "00:00:05";
    }
}

/// <summary>Delivers every webhook twice, as real providers sometimes do.</summary>
public sealed class DuplicatingProviderFactory : PaymentsFactory
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Payments:Simulator:DuplicateRate"] = "1";
    }
}

/// <summary>
/// A provider that accepts each connection and drops it without an answer (the outcome of every
/// call is unknown), counting connections; the breaker opens after two failures.
/// </summary>
public sealed class BrokenProviderFactory : PaymentsFactory
{
    private readonly TcpListener _provider = new(IPAddress.Loopback, 0);
    private int _calls;

    /// <summary>Requests that reached the provider.</summary>
    public int Calls => Volatile.Read(ref _calls);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _provider.Start();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                TcpClient connection;
                try
                {
                    connection = await _provider.AcceptTcpClientAsync();
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    return;
                }
                _ = ResetAfterRequestAsync(connection);
            }
        });
        Settings["Payments:Provider:BaseUrl"] = $"http://127.0.0.1:{((IPEndPoint)_provider.LocalEndpoint).Port}/";
        Settings["Payments:Provider:MinimumThroughput"] = "2";
        Settings["Payments:Provider:FailureRatio"] = "0.5";
        Settings["Payments:Provider:BreakDuration"] = "00:02:00";
        // The 30-second reconciliation (:00 and :30) looks up only intents left 5 s: firing between
        // the first calls it would add a call, and a failure towards the breaker, of its own.
        Settings["Payments:Reconciliation:After"] = "00:00:05";
    }

    /// <summary>
    /// Counts a call once its request's first bytes arrive, then resets the connection without an
    /// answer. The client's connection pool may open a connection it never sends on: not a call.
    /// </summary>
    private async Task ResetAfterRequestAsync(TcpClient connection)
    {
        using (connection)
        {
            try
            {
                if (await connection.GetStream().ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(30)) > 0)
                {
                    Interlocked.Increment(ref _calls);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or ObjectDisposedException)
            {
            }
            connection.Client.LingerState = new LingerOption(true, 0); // reset, no answer
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _provider.Stop();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class LostWebhookTests(LostWebhooksFactory factory) : IClassFixture<LostWebhooksFactory>
{
    [Fact]
    public async Task A_paid_order_whose_webhooks_never_arrive_is_paid_by_reconciliation_after_the_provider_retried_with_back_off()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var (orderId, _, _) = await PaymentTests.OrderAsync(factory, buyer);
        var paymentId = await PaymentsFactory.PayAsync(buyer, orderId);
        using var provider = factory.CreateClient();
        await (await provider.PostAsync($"/simulator/payments/{paymentId}/succeed", null)).EnsureStatusAsync(HttpStatusCode.OK);

        // Three attempts (0.2 s, then 0.4 s apart), then the provider gives up; the order knows nothing yet.
        await LedgerScenarios.EventuallyAsync(() => Task.FromResult(factory.Logs.All.Contains("given up after 3 attempts")), "the provider to give up");
        Assert.Contains("attempt 2 failed", factory.Logs.All);
        Assert.Equal("pending_payment", await PaymentTests.StatusAsync(buyer, orderId));

        await Task.Delay(TimeSpan.FromSeconds(5));
        var admin = await factory.AdminClientAsync();
        var run = await (await admin.PostAsync("/api/admin/jobs/payments.reconcile/run", null)).JsonAsync();
        Assert.Equal("succeeded", run.GetProperty("outcome").GetString());

        Assert.Equal("paid", await PaymentTests.StatusAsync(buyer, orderId));
    }
}

public sealed class DuplicatedWebhookTests(DuplicatingProviderFactory factory) : IClassFixture<DuplicatingProviderFactory>
{
    [Fact]
    public async Task Every_event_delivered_twice_by_the_provider_still_pays_once_and_counts_once()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var (orderId, _, sku) = await PaymentTests.OrderAsync(factory, buyer, quantity: 5);
        var paymentId = await PaymentsFactory.PayAsync(buyer, orderId);
        using var provider = factory.CreateClient();
        await (await provider.PostAsync($"/simulator/payments/{paymentId}/succeed", null)).EnsureStatusAsync(HttpStatusCode.OK);

        await LedgerScenarios.EventuallyAsync(() => Task.FromResult(factory.Logs.All.Contains("Replayed")), "the second delivery to be refused as a replay");
        Assert.Equal("paid", await PaymentTests.StatusAsync(buyer, orderId));
        Assert.Equal(1, await factory.WithScopeAsync(s => s.GetRequiredService<PaymentsDbContext>().WebhookEvents.CountAsync(e => e.PaymentId == Guid.Parse(paymentId))));
        await LedgerScenarios.EventuallyAsync(async () => (await (await buyer.GetAsync($"/api/products/{await ProductOfAsync(sku)}")).JsonAsync()).GetProperty("sales").GetInt64() == 5,
            "the product's sales to show the five paid units");
    }

    private Task<Guid> ProductOfAsync(string sku) => factory.WithScopeAsync(s =>
        s.GetRequiredService<FlashMall.Catalog.Persistence.CatalogDbContext>().Skus.Where(x => x.Id == Guid.Parse(sku)).Select(x => x.ProductId).SingleAsync());
}

public sealed class BrokenProviderTests(BrokenProviderFactory factory) : IClassFixture<BrokenProviderFactory>
{
    [Fact]
    public async Task Unanswered_calls_park_the_intent_and_open_the_breaker_which_then_spares_the_provider()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var orders = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            orders.Add((await PaymentTests.OrderAsync(factory, buyer)).OrderId);
        }

        foreach (var orderId in orders)
        {
            var refused = await buyer.PostAsJsonAsync($"/api/orders/{orderId}/payments", new { method = "simulator" });
            await refused.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "payment_provider_unavailable");
            Assert.True(refused.Headers.RetryAfter is not null);
        }

        // Two calls reached the provider; once the breaker opened, the others were refused without a call.
        Assert.Equal(2, factory.Calls);
        var byOrder = await factory.WithScopeAsync(s => s.GetRequiredService<PaymentsDbContext>().Payments.ToDictionaryAsync(p => p.OrderId.ToString(), p => p.Status));
        var statuses = orders.Select(o => byOrder[o]).ToList();
        // An unknown outcome is parked for reconciliation; a call never sent failed outright (a retry makes a new intent).
        Assert.Equal(["unknown", "unknown", "failed", "failed"], statuses);
        foreach (var orderId in orders)
        {
            Assert.Equal("pending_payment", await PaymentTests.StatusAsync(buyer, orderId));
        }

        // Reconciliation cannot reach the provider either: it stops, changes nothing, and the job still succeeds.
        await Task.Delay(TimeSpan.FromSeconds(5)); // the parked intents are due
        var admin = await factory.AdminClientAsync();
        var run = await (await admin.PostAsync("/api/admin/jobs/payments.reconcile/run", null)).JsonAsync();
        Assert.Equal("succeeded", run.GetProperty("outcome").GetString());
        Assert.Equal(2, await factory.WithScopeAsync(s => s.GetRequiredService<PaymentsDbContext>().Payments.CountAsync(p => p.Status == "unknown")));
        Assert.Equal(2, factory.Calls); // its lookups were refused by the open breaker, not sent
    }
}
