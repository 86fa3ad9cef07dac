using System.Net;
using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Catalog.Persistence;
using FlashMall.Payments.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>The money path over real HTTP: intents, the simulator's signed webhooks, refunds, and every way a webhook can be wrong.</summary>
public sealed class PaymentTests(PaymentsFactory factory) : IClassFixture<PaymentsFactory>
{
    private static readonly object Address = new { name = "李四", phone = "13800138000", line1 = "长安街 1 号", city = "北京", region = "北京市" };

    internal static async Task<(string OrderId, long Total, string Sku)> OrderAsync(FlashMallFactory node, HttpClient buyer, int quantity = 2, int stock = 10, long price = 12_345)
    {
        var sku = await node.SkuAsync((await node.NewUserAsync("merchandiser")).Client, stock, price);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/orders")
        {
            Content = JsonContent.Create(new { items = new[] { new { skuId = sku, quantity } }, address = Address }),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var placed = await (await buyer.SendAsync(request)).JsonAsync(HttpStatusCode.Created);
        return (placed.GetProperty("orderId").GetString()!, placed.GetProperty("total").GetInt64(), sku);
    }

    internal static async Task<string> StatusAsync(HttpClient buyer, string orderId) =>
        (await (await buyer.GetAsync($"/api/orders/{orderId}")).JsonAsync()).GetProperty("status").GetString()!;

    private Task<long> SalesAsync(string sku) => factory.WithScopeAsync(s =>
        s.GetRequiredService<CatalogDbContext>().Skus.Where(x => x.Id == Guid.Parse(sku))
            .Join(s.GetRequiredService<CatalogDbContext>().Products, x => x.ProductId, p => p.Id, (x, p) => p.Sales).SingleAsync());

    private Task<int> ProcessedEventsAsync(string paymentId) => factory.WithScopeAsync(s =>
        s.GetRequiredService<PaymentsDbContext>().WebhookEvents.CountAsync(e => e.PaymentId == Guid.Parse(paymentId)));

    [Fact]
    public async Task A_buyer_pays_through_the_simulator_and_the_signed_webhook_pays_the_order_once()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var (orderId, total, sku) = await OrderAsync(factory, buyer, quantity: 3);

        var key = Guid.NewGuid().ToString();
        var paymentId = await PaymentsFactory.PayAsync(buyer, orderId, key);
        // The same key replays the answer; another key still gets the order's one active intent.
        var replay = new HttpRequestMessage(HttpMethod.Post, $"/api/orders/{orderId}/payments") { Content = JsonContent.Create(new { method = "simulator" }) };
        replay.Headers.Add("Idempotency-Key", key);
        var replayed = await buyer.SendAsync(replay);
        Assert.Equal("true", replayed.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(paymentId, (await replayed.JsonAsync(HttpStatusCode.Created)).GetProperty("paymentId").GetString());
        Assert.Equal(paymentId, await PaymentsFactory.PayAsync(buyer, orderId));
        Assert.Equal("pending", (await (await buyer.GetAsync($"/api/payments/{paymentId}")).JsonAsync()).GetProperty("status").GetString());

        using var provider = factory.CreateClient();
        Assert.Contains("Payment simulator", await provider.GetStringAsync($"/simulator/pay/{paymentId}"));
        await (await provider.PostAsync($"/simulator/payments/{paymentId}/succeed", null)).EnsureStatusAsync(HttpStatusCode.OK);

        await LedgerScenarios.EventuallyAsync(async () => await StatusAsync(buyer, orderId) == "paid", "the webhook to pay the order");
        var payment = await (await buyer.GetAsync($"/api/payments/{paymentId}")).JsonAsync();
        Assert.Equal("succeeded", payment.GetProperty("status").GetString());
        Assert.Equal(total, payment.GetProperty("amount").GetInt64());
        await LedgerScenarios.EventuallyAsync(async () => await SalesAsync(sku) == 3, "the product's sales to count the paid units");
        // A paid order is not paid again, and other buyers never see it.
        await (await buyer.PostAsJsonAsync($"/api/orders/{orderId}/payments", new { method = "simulator" })).ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid_transition");
        using var stranger = factory.Buyer(Guid.NewGuid());
        await (await stranger.PostAsJsonAsync($"/api/orders/{orderId}/payments", new { method = "simulator" })).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await stranger.GetAsync($"/api/payments/{paymentId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_duplicated_delayed_and_concurrent_webhook_pays_the_order_exactly_once()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var (orderId, total, sku) = await OrderAsync(factory, buyer, quantity: 2);
        var paymentId = await PaymentsFactory.PayAsync(buyer, orderId);
        var body = PaymentsFactory.Event($"evt_{Guid.NewGuid():N}", "payment.succeeded", paymentId, total);

        using var provider = factory.CreateClient();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var deliveries = Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return (await provider.SendAsync(PaymentsFactory.Webhook(body))).StatusCode;
        })).ToList();
        start.SetResult();
        var statuses = await Task.WhenAll(deliveries);

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(19, statuses.Count(s => s == HttpStatusCode.Conflict));
        Assert.Equal("paid", await StatusAsync(buyer, orderId));
        // The same capture told again under another event id, and a failure arriving late, change nothing.
        var again = await (await provider.SendAsync(PaymentsFactory.Webhook(PaymentsFactory.Event($"evt_{Guid.NewGuid():N}", "payment.succeeded", paymentId, total)))).JsonAsync();
        Assert.False(again.GetProperty("changed").GetBoolean());
        var late = await (await provider.SendAsync(PaymentsFactory.Webhook(PaymentsFactory.Event($"evt_{Guid.NewGuid():N}", "payment.failed", paymentId, total)))).JsonAsync();
        Assert.False(late.GetProperty("changed").GetBoolean());
        Assert.Equal("paid", await StatusAsync(buyer, orderId));
        Assert.Equal("succeeded", (await (await buyer.GetAsync($"/api/payments/{paymentId}")).JsonAsync()).GetProperty("status").GetString());
        await LedgerScenarios.EventuallyAsync(async () => await SalesAsync(sku) == 2, "sales counted");
        await Task.Delay(300);
        Assert.Equal(2, await SalesAsync(sku)); // counted once, not once per delivery
    }

    [Fact]
    public async Task A_forged_stale_tampered_or_replayed_webhook_is_refused_and_changes_nothing()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var (orderId, total, _) = await OrderAsync(factory, buyer);
        var paymentId = await PaymentsFactory.PayAsync(buyer, orderId);
        using var provider = factory.CreateClient();
        var body = PaymentsFactory.Event($"evt_{Guid.NewGuid():N}", "payment.succeeded", paymentId, total);

        await (await provider.SendAsync(PaymentsFactory.Webhook(body, secrets: "whsec_attacker_guess_0000000000000")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "webhook_signature_invalid");
        var unsigned = new HttpRequestMessage(HttpMethod.Post, "/api/payments/webhook") { Content = new ByteArrayContent(body) };
        await (await provider.SendAsync(unsigned)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "webhook_signature_invalid");
        // A genuine signature over other bytes: one changed character in the body breaks it.
        var tampered = PaymentsFactory.Webhook(body);
        tampered.Content = new ByteArrayContent(PaymentsFactory.Event($"evt_{Guid.NewGuid():N}", "payment.succeeded", paymentId, 1));
        await (await provider.SendAsync(tampered)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "webhook_signature_invalid");
        var stale = DateTimeOffset.UtcNow.AddSeconds(-301).ToUnixTimeSeconds();
        await (await provider.SendAsync(PaymentsFactory.Webhook(body, stale))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "webhook_stale");
        var future = DateTimeOffset.UtcNow.AddSeconds(301).ToUnixTimeSeconds();
        await (await provider.SendAsync(PaymentsFactory.Webhook(body, future))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "webhook_stale");

        var forgedFailure = PaymentsFactory.Event($"evt_{Guid.NewGuid():N}", "payment.failed", paymentId, total);
        await (await provider.SendAsync(PaymentsFactory.Webhook(forgedFailure, secrets: "whsec_attacker_guess_0000000000000")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "webhook_signature_invalid");
        var huge = new byte[WebhookLimit + 1];
        await (await provider.SendAsync(PaymentsFactory.Webhook(huge))).ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        Assert.Equal("pending_payment", await StatusAsync(buyer, orderId));
        Assert.Equal("pending", await PaymentStatusAsync(buyer, paymentId));
        Assert.Equal(0, await ProcessedEventsAsync(paymentId));

        // Signed with the previous secret during a rotation (among other v1 values): accepted once, then a replay is refused.
        var genuine = PaymentsFactory.Webhook(body, secrets: ["whsec_unknown_0000000000000000000", PaymentsFactory.PreviousWebhookSecret]);
        var captured = await genuine.Content!.ReadAsByteArrayAsync();
        var signature = genuine.Headers.GetValues("X-Signature").Single();
        await (await provider.SendAsync(genuine)).EnsureStatusAsync(HttpStatusCode.OK);
        var replay = new HttpRequestMessage(HttpMethod.Post, "/api/payments/webhook") { Content = new ByteArrayContent(captured) };
        replay.Headers.Add("X-Signature", signature);
        await (await provider.SendAsync(replay)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "webhook_replayed");
        Assert.Equal("paid", await StatusAsync(buyer, orderId));
        Assert.Equal(1, await ProcessedEventsAsync(paymentId));

        // An event for another amount than the payment's is refused and recorded nowhere.
        var (otherOrder, otherTotal, _) = await OrderAsync(factory, buyer);
        var otherPayment = await PaymentsFactory.PayAsync(buyer, otherOrder);
        await (await provider.SendAsync(PaymentsFactory.Webhook(PaymentsFactory.Event($"evt_{Guid.NewGuid():N}", "payment.succeeded", otherPayment, otherTotal - 1))))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "amount_mismatch");
        Assert.Equal("pending_payment", await StatusAsync(buyer, otherOrder));
        Assert.Equal(0, await ProcessedEventsAsync(otherPayment));
    }

    [Fact]
    public async Task An_operator_refunds_a_paid_order_its_stock_returns_and_it_no_longer_counts_as_sold()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var (orderId, total, sku) = await OrderAsync(factory, buyer, quantity: 4, stock: 10);
        var paymentId = await PaymentsFactory.PayAsync(buyer, orderId);
        using var provider = factory.CreateClient();
        var operatorUser = await factory.NewUserAsync("operator");

        await (await operatorUser.Client.PostAsync($"/api/admin/orders/{orderId}/refund", null)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid_transition");
        await (await provider.PostAsync($"/simulator/payments/{paymentId}/succeed", null)).EnsureStatusAsync(HttpStatusCode.OK);
        await LedgerScenarios.EventuallyAsync(async () => await StatusAsync(buyer, orderId) == "paid", "paid");
        await LedgerScenarios.EventuallyAsync(async () => await SalesAsync(sku) == 4, "sales counted");
        Assert.Equal(6, await factory.StockAsync(sku));

        await (await buyer.PostAsync($"/api/admin/orders/{orderId}/refund", null)).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        var refund = await (await operatorUser.Client.PostAsync($"/api/admin/orders/{orderId}/refund", null)).JsonAsync();
        Assert.Equal("refunded", refund.GetProperty("status").GetString());
        Assert.Equal(total, refund.GetProperty("refunded").GetInt64());
        Assert.Equal("refunded", await StatusAsync(buyer, orderId));
        Assert.Equal("refunded", (await (await buyer.GetAsync($"/api/payments/{paymentId}")).JsonAsync()).GetProperty("status").GetString());
        var atProvider = await (await ProviderApi().GetAsync($"/simulator/v1/payments/{paymentId}")).JsonAsync();
        Assert.Equal("refunded", atProvider.GetProperty("status").GetString());
        await LedgerScenarios.EventuallyAsync(async () => await factory.StockAsync(sku) == 10, "the refunded units back in stock");
        await LedgerScenarios.EventuallyAsync(async () => await SalesAsync(sku) == 0, "the refunded units no longer counted as sold");

        await (await operatorUser.Client.PostAsync($"/api/admin/orders/{orderId}/refund", null)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid_transition");
        await (await operatorUser.Client.PostAsync($"/api/admin/orders/{Guid.NewGuid()}/refund", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Every_illegal_transition_is_409_and_changes_nothing()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var operatorUser = await factory.NewUserAsync("operator");
        using var provider = factory.CreateClient();
        Task<HttpResponseMessage> Cancel(string id) => buyer.PostAsync($"/api/orders/{id}/cancel", null);
        Task<HttpResponseMessage> Complete(string id) => buyer.PostAsync($"/api/orders/{id}/complete", null);
        Task<HttpResponseMessage> Ship(string id) => operatorUser.Client.PostAsync($"/api/admin/orders/{id}/ship", null);
        Task<HttpResponseMessage> Refund(string id) => operatorUser.Client.PostAsync($"/api/admin/orders/{id}/refund", null);
        Task<HttpResponseMessage> Pay(string id) => buyer.PostAsJsonAsync($"/api/orders/{id}/payments", new { method = "simulator" });
        async Task RefusedAsync(string id, string status, params Func<string, Task<HttpResponseMessage>>[] moves)
        {
            foreach (var move in moves)
            {
                await (await move(id)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid_transition");
                Assert.Equal(status, await StatusAsync(buyer, id));
            }
        }

        var (order, _, _) = await OrderAsync(factory, buyer);
        await RefusedAsync(order, "pending_payment", Ship, Complete, Refund);

        var paymentId = await PaymentsFactory.PayAsync(buyer, order);
        await (await provider.PostAsync($"/simulator/payments/{paymentId}/succeed", null)).EnsureStatusAsync(HttpStatusCode.OK);
        await LedgerScenarios.EventuallyAsync(async () => await StatusAsync(buyer, order) == "paid", "paid");
        await RefusedAsync(order, "paid", Cancel, Complete, Pay);

        Assert.Equal("shipped", (await (await Ship(order)).JsonAsync()).GetProperty("status").GetString());
        await RefusedAsync(order, "shipped", Cancel, Ship, Refund, Pay);
        await (await buyer.PostAsync($"/api/orders/{order}/ship", null)).EnsureStatusAsync(HttpStatusCode.NotFound);
        await (await buyer.PostAsync($"/api/admin/orders/{order}/ship", null)).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        using var stranger = factory.Buyer(Guid.NewGuid());
        await (await stranger.PostAsync($"/api/orders/{order}/complete", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Equal("completed", (await (await Complete(order)).JsonAsync()).GetProperty("status").GetString());
        await RefusedAsync(order, "completed", Cancel, Ship, Complete, Refund, Pay);

        var (cancelled, _, _) = await OrderAsync(factory, buyer);
        await (await Cancel(cancelled)).EnsureStatusAsync(HttpStatusCode.OK);
        await RefusedAsync(cancelled, "cancelled", Cancel, Ship, Complete, Refund, Pay);

        var (refunded, _, _) = await OrderAsync(factory, buyer);
        var refundedPayment = await PaymentsFactory.PayAsync(buyer, refunded);
        await (await provider.PostAsync($"/simulator/payments/{refundedPayment}/succeed", null)).EnsureStatusAsync(HttpStatusCode.OK);
        await LedgerScenarios.EventuallyAsync(async () => await StatusAsync(buyer, refunded) == "paid", "paid");
        await (await Refund(refunded)).EnsureStatusAsync(HttpStatusCode.OK);
        await RefusedAsync(refunded, "refunded", Cancel, Ship, Complete, Refund, Pay);
    }

    [Fact]
    public async Task A_capture_for_an_order_cancelled_meanwhile_is_refunded_by_reconciliation_and_the_order_stays_cancelled()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var (orderId, _, sku) = await OrderAsync(factory, buyer, quantity: 1);
        var paymentId = await PaymentsFactory.PayAsync(buyer, orderId);
        await (await buyer.PostAsync($"/api/orders/{orderId}/cancel", null)).EnsureStatusAsync(HttpStatusCode.OK);
        using var provider = factory.CreateClient();
        await (await provider.PostAsync($"/simulator/payments/{paymentId}/succeed", null)).EnsureStatusAsync(HttpStatusCode.OK);
        await LedgerScenarios.EventuallyAsync(async () => await PaymentStatusAsync(buyer, paymentId) == "refund_due", "the capture to be marked for refund");

        await RunReconciliationAsync();

        Assert.Equal("refunded", await PaymentStatusAsync(buyer, paymentId));
        Assert.Equal("refunded", (await (await ProviderApi().GetAsync($"/simulator/v1/payments/{paymentId}")).JsonAsync()).GetProperty("status").GetString());
        Assert.Equal("cancelled", await StatusAsync(buyer, orderId));
        Assert.Equal(0, await SalesAsync(sku));
    }

    [Fact]
    public async Task A_parked_intent_whose_answer_was_lost_is_settled_from_the_providers_records()
    {
        var buyerId = Guid.NewGuid();
        using var owner = factory.Buyer(buyerId);
        var (orderId, total, _) = await OrderAsync(factory, owner);
        // The provider made the payment and the buyer paid it, but our request's answer never came back: parked as unknown.
        var paymentId = Guid.NewGuid();
        await (await ProviderApi().PostAsJsonAsync("/simulator/v1/payments", new
        {
            merchantRef = paymentId, amount = total, currency = "CNY", description = "lost answer", notifyUrl = "http://127.0.0.1:9/nowhere",
        })).EnsureStatusAsync(HttpStatusCode.OK);
        await InsertPaymentAsync(paymentId, orderId, total, "unknown", DateTimeOffset.UtcNow);
        using var provider = factory.CreateClient();
        await (await provider.PostAsync($"/simulator/payments/{paymentId}/succeed", null)).EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Equal("pending_payment", await StatusAsync(owner, orderId));

        await RunReconciliationAsync();

        Assert.Equal("paid", await StatusAsync(owner, orderId));
        Assert.Equal("succeeded", await PaymentStatusAsync(owner, paymentId.ToString()));
    }

    [Fact]
    public async Task A_refunded_flash_sale_order_gives_its_units_back_to_the_sale()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var sale = await factory.LiveSaleAsync(merchandiser.Client, quantity: 3, perUserLimit: 1);
        using var buyer = factory.Buyer(Guid.NewGuid());
        var reserved = await (await buyer.PurchaseAsync(sale)).JsonAsync(HttpStatusCode.Accepted);
        var orderId = reserved.GetProperty("reservationId").GetString()!;
        await LedgerScenarios.EventuallyAsync(async () => (await buyer.GetAsync($"/api/orders/{orderId}")).StatusCode == HttpStatusCode.OK, "the reservation's order");
        var paymentId = await PaymentsFactory.PayAsync(buyer, orderId);
        using var provider = factory.CreateClient();
        await (await provider.PostAsync($"/simulator/payments/{paymentId}/succeed", null)).EnsureStatusAsync(HttpStatusCode.OK);
        await LedgerScenarios.EventuallyAsync(async () => await StatusAsync(buyer, orderId) == "paid", "paid");

        // Paid before the buyer said where to: it cannot ship yet.
        var operatorUser = await factory.NewUserAsync("operator");
        await (await operatorUser.Client.PostAsync($"/api/admin/orders/{orderId}/ship", null)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "address_required");
        await (await buyer.PutAsJsonAsync($"/api/orders/{orderId}/address", Address)).EnsureStatusAsync(HttpStatusCode.OK);

        await (await operatorUser.Client.PostAsync($"/api/admin/orders/{orderId}/refund", null)).EnsureStatusAsync(HttpStatusCode.OK);

        await LedgerScenarios.EventuallyAsync(async () =>
            (await (await buyer.GetAsync($"/api/reservations/{orderId}")).JsonAsync()).GetProperty("status").GetString() == "released", "the reservation released");
        await LedgerScenarios.EventuallyAsync(async () =>
            (await (await buyer.GetAsync($"/api/flash-sales/{sale}")).JsonAsync()).GetProperty("remaining").GetInt32() == 3, "the unit back in the sale", seconds: 10);
    }

    private const int WebhookLimit = 64 * 1024;

    [Fact]
    public async Task A_refund_racing_a_shipment_either_refunds_or_ships_never_both()
    {
        var operatorUser = await factory.NewUserAsync("operator");
        using var provider = factory.CreateClient();
        for (var round = 0; round < 5; round++)
        {
            using var buyer = factory.Buyer(Guid.NewGuid());
            var (orderId, _, _) = await OrderAsync(factory, buyer);
            var paymentId = await PaymentsFactory.PayAsync(buyer, orderId);
            await (await provider.PostAsync($"/simulator/payments/{paymentId}/succeed", null)).EnsureStatusAsync(HttpStatusCode.OK);
            await LedgerScenarios.EventuallyAsync(async () => await StatusAsync(buyer, orderId) == "paid", "paid");

            var refund = operatorUser.Client.PostAsync($"/api/admin/orders/{orderId}/refund", null);
            var ship = operatorUser.Client.PostAsync($"/api/admin/orders/{orderId}/ship", null);
            var (refunded, shipped) = ((await refund).StatusCode, (await ship).StatusCode);

            Assert.True((refunded == HttpStatusCode.OK) ^ (shipped == HttpStatusCode.OK), $"refund {refunded}, ship {shipped}");
            var status = await StatusAsync(buyer, orderId);
            var payment = await PaymentStatusAsync(buyer, paymentId);
            var atProvider = (await (await ProviderApi().GetAsync($"/simulator/v1/payments/{paymentId}")).JsonAsync()).GetProperty("status").GetString();
            Assert.Equal(refunded == HttpStatusCode.OK ? ("refunded", "refunded", "refunded") : ("shipped", "succeeded", "succeeded"), (status, payment, atProvider));
        }
    }

    [Fact]
    public async Task A_refund_made_at_the_provider_refunds_the_order_and_returns_its_stock()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var (orderId, total, sku) = await OrderAsync(factory, buyer, quantity: 2, stock: 5);
        var paymentId = await PaymentsFactory.PayAsync(buyer, orderId);
        using var provider = factory.CreateClient();
        await (await provider.SendAsync(PaymentsFactory.Webhook(PaymentsFactory.Event($"evt_{Guid.NewGuid():N}", "payment.succeeded", paymentId, total))))
            .EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Equal("paid", await StatusAsync(buyer, orderId));

        var refundEvent = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
        {
            id = $"evt_{Guid.NewGuid():N}", type = "refund.succeeded", created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            data = new { paymentId, providerRef = "sim_test", amount = total, currency = "CNY", status = "refunded" },
        });
        await (await provider.SendAsync(PaymentsFactory.Webhook(refundEvent))).EnsureStatusAsync(HttpStatusCode.OK);

        Assert.Equal("refunded", await StatusAsync(buyer, orderId));
        Assert.Equal("refunded", await PaymentStatusAsync(buyer, paymentId));
        await LedgerScenarios.EventuallyAsync(async () => await factory.StockAsync(sku) == 5, "the units back in stock");
    }

    [Fact]
    public async Task Reconciliation_refunds_every_due_capture_even_when_the_provider_refuses_one_for_good()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var (unknownOrder, total, _) = await OrderAsync(factory, buyer);
        var (knownOrder, knownTotal, _) = await OrderAsync(factory, buyer);
        // One capture the provider has never heard of (it refuses its refund), one it holds as captured.
        var unknownPayment = Guid.NewGuid();
        var knownPayment = Guid.NewGuid();
        await (await ProviderApi().PostAsJsonAsync("/simulator/v1/payments", new
        {
            merchantRef = knownPayment, amount = knownTotal, currency = "CNY", description = "due", notifyUrl = "http://127.0.0.1:9/nowhere",
        })).EnsureStatusAsync(HttpStatusCode.OK);
        using var provider = factory.CreateClient();
        await (await provider.PostAsync($"/simulator/payments/{knownPayment}/succeed", null)).EnsureStatusAsync(HttpStatusCode.OK);
        await InsertPaymentAsync(unknownPayment, unknownOrder, total, "refund_due", DateTimeOffset.UtcNow.AddMinutes(-5));
        await InsertPaymentAsync(knownPayment, knownOrder, knownTotal, "refund_due", DateTimeOffset.UtcNow);

        await RunReconciliationAsync();

        Assert.Equal("refund_failed", await PaymentStatusAsync(buyer, unknownPayment.ToString()));
        Assert.Equal("refunded", await PaymentStatusAsync(buyer, knownPayment.ToString()));
        Assert.Contains("settle it by hand", factory.Logs.All);
    }

    [Fact]
    public async Task An_order_a_coupon_covers_in_full_is_paid_at_checkout_with_nothing_to_pay()
    {
        var merchandiser = (await factory.NewUserAsync("merchandiser")).Client;
        var template = await (await merchandiser.PostAsJsonAsync("/api/admin/coupon-templates", new
        {
            name = "全免 All free", kind = "amount_off", value = 1_000_000, minSpend = 0, totalQuantity = 5, perUserLimit = 1,
            validFrom = DateTimeOffset.UtcNow.AddMinutes(-1), validTo = DateTimeOffset.UtcNow.AddDays(1),
        })).JsonAsync(HttpStatusCode.Created);
        using var buyer = factory.Buyer(Guid.NewGuid());
        var claim = new HttpRequestMessage(HttpMethod.Post, "/api/coupons/claim") { Content = JsonContent.Create(new { templateId = template.GetProperty("id").GetString() }) };
        var couponId = (await (await buyer.SendAsync(claim)).JsonAsync(HttpStatusCode.Created)).GetProperty("couponId").GetString();
        var sku = await factory.SkuAsync(merchandiser, 3, 9_900);

        var placed = await (await buyer.PostAsJsonAsync("/api/orders", new { items = new[] { new { skuId = sku, quantity = 1 } }, couponId, address = Address }))
            .JsonAsync(HttpStatusCode.Created);

        Assert.Equal(0, placed.GetProperty("total").GetInt64());
        Assert.Equal("paid", placed.GetProperty("status").GetString());
        var orderId = placed.GetProperty("orderId").GetString()!;
        await (await buyer.PostAsJsonAsync($"/api/orders/{orderId}/payments", new { method = "simulator" })).ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid_transition");
        await LedgerScenarios.EventuallyAsync(async () => await SalesAsync(sku) == 1, "the free unit counted as sold");
    }

    [Fact]
    public async Task An_order_past_its_deadline_with_a_payment_under_way_waits_for_the_grace_while_an_unpaid_one_is_cancelled()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var (paying, _, _) = await OrderAsync(factory, buyer);
        var (idle, _, _) = await OrderAsync(factory, buyer);
        await PaymentsFactory.PayAsync(buyer, paying);
        var past = DateTimeOffset.UtcNow.AddMinutes(-1);
        await factory.WithScopeAsync(s => s.GetRequiredService<FlashMall.Ordering.Persistence.OrderingDbContext>().Orders
            .Where(o => o.Id == Guid.Parse(paying) || o.Id == Guid.Parse(idle)).ExecuteUpdateAsync(u => u.SetProperty(o => o.PayBefore, past)));

        var admin = await factory.AdminClientAsync();
        var run = await (await admin.PostAsync("/api/admin/jobs/ordering.expire-unpaid/run", null)).JsonAsync();
        Assert.Equal("succeeded", run.GetProperty("outcome").GetString());

        Assert.Equal("cancelled", await StatusAsync(buyer, idle));
        Assert.Equal("pending_payment", await StatusAsync(buyer, paying));
    }

    [Fact]
    public async Task An_order_that_times_out_gives_back_its_stock_and_its_coupon_once()
    {
        var merchandiser = (await factory.NewUserAsync("merchandiser")).Client;
        var template = await (await merchandiser.PostAsJsonAsync("/api/admin/coupon-templates", new
        {
            name = "立减10元 Ten off", kind = "amount_off", value = 1_000, minSpend = 0, totalQuantity = 5, perUserLimit = 1,
            validFrom = DateTimeOffset.UtcNow.AddMinutes(-1), validTo = DateTimeOffset.UtcNow.AddDays(1),
        })).JsonAsync(HttpStatusCode.Created);
        using var buyer = factory.Buyer(Guid.NewGuid());
        var claim = new HttpRequestMessage(HttpMethod.Post, "/api/coupons/claim") { Content = JsonContent.Create(new { templateId = template.GetProperty("id").GetString() }) };
        var couponId = (await (await buyer.SendAsync(claim)).JsonAsync(HttpStatusCode.Created)).GetProperty("couponId").GetString();
        var sku = await factory.SkuAsync(merchandiser, 4, 9_900);
        var placed = await (await buyer.PostAsJsonAsync("/api/orders", new { items = new[] { new { skuId = sku, quantity = 4 } }, couponId, address = Address }))
            .JsonAsync(HttpStatusCode.Created);
        Assert.Equal(4 * 9_900 - 1_000, placed.GetProperty("total").GetInt64());
        Assert.Equal(0, await factory.StockAsync(sku));
        var orderId = placed.GetProperty("orderId").GetString()!;
        var past = DateTimeOffset.UtcNow.AddMinutes(-1);
        await factory.WithScopeAsync(s => s.GetRequiredService<FlashMall.Ordering.Persistence.OrderingDbContext>().Orders
            .Where(o => o.Id == Guid.Parse(orderId)).ExecuteUpdateAsync(u => u.SetProperty(o => o.PayBefore, past)));

        var admin = await factory.AdminClientAsync();
        for (var run = 0; run < 2; run++)
        {
            await (await admin.PostAsync("/api/admin/jobs/ordering.expire-unpaid/run", null)).EnsureStatusAsync(HttpStatusCode.OK);
        }

        Assert.Equal("cancelled", await StatusAsync(buyer, orderId));
        await LedgerScenarios.EventuallyAsync(async () => await factory.StockAsync(sku) == 4, "the stock back");
        await LedgerScenarios.EventuallyAsync(async () =>
            (await (await buyer.GetAsync("/api/coupons")).JsonAsync()).GetProperty("items").EnumerateArray()
                .Any(c => c.GetProperty("couponId").GetString() == couponId && c.GetProperty("status").GetString() == "unused"), "the coupon back");
        await Task.Delay(300);
        Assert.Equal(4, await factory.StockAsync(sku));
    }

    private Task<int> InsertPaymentAsync(Guid paymentId, string orderId, long amount, string status, DateTimeOffset updatedAt) => factory.WithScopeAsync(async s =>
    {
        var db = s.GetRequiredService<PaymentsDbContext>();
        var buyer = (await s.GetRequiredService<FlashMall.Ordering.Persistence.OrderingDbContext>().Orders.SingleAsync(o => o.Id == Guid.Parse(orderId))).UserId;
        var payment = FlashMall.Payments.Domain.Payment.Create(paymentId, Guid.Parse(orderId), buyer, amount, "simulator", updatedAt);
        db.Payments.Add(payment);
        db.Entry(payment).Property(p => p.Status).CurrentValue = status;
        return await db.SaveChangesAsync();
    });

    private HttpClient ProviderApi()
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", PaymentsFactory.ApiKey);
        return client;
    }

    private static async Task<string> PaymentStatusAsync(HttpClient buyer, string paymentId) =>
        (await (await buyer.GetAsync($"/api/payments/{paymentId}")).JsonAsync()).GetProperty("status").GetString()!;

    private async Task RunReconciliationAsync()
    {
        var admin = await factory.AdminClientAsync();
        var run = await (await admin.PostAsync("/api/admin/jobs/payments.reconcile/run", null)).JsonAsync();
        Assert.True(run.GetProperty("outcome").GetString() == "succeeded", run.GetRawText());
    }
}
