using System.Net;
using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Coupons.Persistence;
using FlashMall.Kernel.Messaging;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>Coupon templates and claims: never more than the total, never a buyer past the limit.</summary>
public sealed class CouponTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    private async Task<string> TemplateAsync(int total, int perUser, DateTimeOffset? validFrom = null, string kind = "amount_off", long value = 1_000)
    {
        using var merchandiser = (await factory.NewUserAsync("merchandiser")).Client;
        var created = await merchandiser.PostAsJsonAsync("/api/admin/coupon-templates", new
        {
            name = "满100减10 Ten off", kind, value, minSpend = 10_000, totalQuantity = total, perUserLimit = perUser,
            validFrom = validFrom ?? DateTimeOffset.UtcNow.AddMinutes(-1), validTo = DateTimeOffset.UtcNow.AddDays(7),
        });
        return (await created.JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;
    }

    private static Task<HttpResponseMessage> ClaimAsync(HttpClient buyer, string template, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/coupons/claim") { Content = JsonContent.Create(new { templateId = template }) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }
        return buyer.SendAsync(request);
    }

    [Fact]
    public async Task Two_hundred_claims_at_once_from_a_hundred_buyers_get_exactly_the_thirty_coupons_one_each()
    {
        var template = await TemplateAsync(total: 30, perUser: 1);
        var buyers = Enumerable.Range(0, 100).Select(_ => Guid.NewGuid()).ToList();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var claims = buyers.Concat(buyers).Select(id => Task.Run(async () =>
        {
            using var buyer = factory.Buyer(id);
            await start.Task;
            using var response = await ClaimAsync(buyer, template);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        })).ToList();
        start.SetResult();
        var answers = await Task.WhenAll(claims);

        Assert.Equal(30, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a =>
        {
            Assert.Equal(HttpStatusCode.Conflict, a.StatusCode);
            Assert.True(a.Body.Contains("\"coupons_exhausted\"", StringComparison.Ordinal) || a.Body.Contains("\"limit_reached\"", StringComparison.Ordinal), a.Body);
        });
        var stored = await factory.WithScopeAsync(async s =>
        {
            var db = s.GetRequiredService<CouponsDbContext>();
            var id = Guid.Parse(template);
            return (Coupons: await db.Coupons.Where(c => c.TemplateId == id).GroupBy(c => c.UserId).Select(g => g.Count()).ToListAsync(),
                    Claimed: await db.Templates.Where(t => t.Id == id).Select(t => t.Claimed).SingleAsync());
        });
        Assert.Equal(30, stored.Coupons.Count);
        Assert.All(stored.Coupons, perBuyer => Assert.Equal(1, perBuyer));
        Assert.Equal(30, stored.Claimed);
    }

    [Fact]
    public async Task A_buyer_claims_up_to_the_limit_and_sees_their_coupons_only()
    {
        var template = await TemplateAsync(total: 10, perUser: 2);
        using var buyer = factory.Buyer(Guid.NewGuid());
        using var other = factory.Buyer(Guid.NewGuid());

        var first = (await (await ClaimAsync(buyer, template, key: "claim-1")).JsonAsync(HttpStatusCode.Created)).GetProperty("couponId").GetString();
        using var replay = await ClaimAsync(buyer, template, key: "claim-1");
        Assert.Equal(first, (await replay.JsonAsync(HttpStatusCode.Created)).GetProperty("couponId").GetString());
        await (await ClaimAsync(buyer, template)).EnsureStatusAsync(HttpStatusCode.Created);
        await (await ClaimAsync(buyer, template)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "limit_reached");

        var mine = await (await buyer.GetAsync("/api/coupons")).JsonAsync();
        Assert.Equal(2, mine.GetProperty("total").GetInt32());
        Assert.All(mine.GetProperty("items").EnumerateArray(), c => Assert.Equal("unused", c.GetProperty("status").GetString()));
        Assert.Equal(0, (await (await other.GetAsync("/api/coupons")).JsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Bad_templates_and_claims_are_refused_and_change_nothing()
    {
        using var merchandiser = (await factory.NewUserAsync("merchandiser")).Client;
        var window = new { validFrom = DateTimeOffset.UtcNow, validTo = DateTimeOffset.UtcNow.AddDays(1) };
        foreach (var body in new object[]
        {
            new { name = "x", kind = "free_money", value = 100, minSpend = 0, totalQuantity = 1, perUserLimit = 1, window.validFrom, window.validTo },
            new { name = "x", kind = "percent_off", value = 100, minSpend = 0, totalQuantity = 1, perUserLimit = 1, window.validFrom, window.validTo },
            new { name = "x", kind = "amount_off", value = -5, minSpend = 0, totalQuantity = 1, perUserLimit = 1, window.validFrom, window.validTo },
            new { name = "x", kind = "amount_off", value = 5, minSpend = -1, totalQuantity = 1, perUserLimit = 1, window.validFrom, window.validTo },
            new { name = "x", kind = "amount_off", value = 5, minSpend = 0, totalQuantity = 0, perUserLimit = 1, window.validFrom, window.validTo },
            new { name = "x", kind = "amount_off", value = 5, minSpend = 0, totalQuantity = 1, perUserLimit = 1, validFrom = window.validTo, validTo = window.validFrom },
        })
        {
            await (await merchandiser.PostAsJsonAsync("/api/admin/coupon-templates", body)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        }
        using var buyer = factory.Buyer(Guid.NewGuid());
        Assert.Equal(HttpStatusCode.Forbidden, (await buyer.PostAsJsonAsync("/api/admin/coupon-templates", new { name = "x" })).StatusCode);

        await (await ClaimAsync(buyer, Guid.NewGuid().ToString())).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await ClaimAsync(buyer, "nope")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var later = await TemplateAsync(total: 5, perUser: 1, validFrom: DateTimeOffset.UtcNow.AddHours(1));
        await (await ClaimAsync(buyer, later)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "not_claimable");
        Assert.Equal(0, (await (await buyer.GetAsync("/api/coupons")).JsonAsync()).GetProperty("total").GetInt32());
    }

    private static readonly object Address = new { name = "李四", phone = "+8613900139000", line1 = "中山路 8 号", city = "广州", region = "广东省" };

    private static async Task<HttpResponseMessage> CheckoutAsync(HttpClient buyer, string sku, int quantity, string? coupon) =>
        await buyer.PostAsJsonAsync("/api/orders", new { items = new[] { new { skuId = sku, quantity } }, couponId = coupon, address = Address });

    private Task<int> StockAsync(string sku) => factory.StockAsync(sku);

    private static async Task<string> CouponStatusAsync(HttpClient buyer, string coupon) =>
        (await (await buyer.GetAsync("/api/coupons")).JsonAsync()).GetProperty("items").EnumerateArray()
            .Single(c => c.GetProperty("couponId").GetString() == coupon).GetProperty("status").GetString()!;

    [Fact]
    public async Task A_coupon_is_redeemed_once_at_checkout_only_when_it_applies_and_comes_back_when_the_order_is_cancelled()
    {
        var sku = await factory.SkuAsync((await factory.NewUserAsync("merchandiser")).Client, stock: 20, price: 6_000);
        var template = await TemplateAsync(total: 5, perUser: 1); // 1,000 fen off orders of 10,000 or more
        using var buyer = factory.Buyer(Guid.NewGuid());
        using var stranger = factory.Buyer(Guid.NewGuid());
        var coupon = (await (await ClaimAsync(buyer, template)).JsonAsync(HttpStatusCode.Created)).GetProperty("couponId").GetString()!;

        await (await CheckoutAsync(buyer, sku, 1, coupon)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "coupon_not_applicable"); // 6,000 < 10,000
        await (await CheckoutAsync(stranger, sku, 2, coupon)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "coupon_not_applicable"); // not theirs
        Assert.Equal(20, await StockAsync(sku));
        Assert.Equal("unused", await CouponStatusAsync(buyer, coupon));

        var placed = await (await CheckoutAsync(buyer, sku, 2, coupon)).JsonAsync(HttpStatusCode.Created);
        Assert.Equal(11_000, placed.GetProperty("total").GetInt64());
        var order = await (await buyer.GetAsync($"/api/orders/{placed.GetProperty("orderId").GetString()}")).JsonAsync();
        Assert.Equal((12_000L, 1_000L, 11_000L), (order.GetProperty("subtotal").GetInt64(), order.GetProperty("discount").GetInt64(), order.GetProperty("total").GetInt64()));
        Assert.Equal("used", await CouponStatusAsync(buyer, coupon));
        await (await CheckoutAsync(buyer, sku, 2, coupon)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "coupon_not_applicable");
        Assert.Equal(18, await StockAsync(sku));

        await (await buyer.PostAsync($"/api/orders/{placed.GetProperty("orderId").GetString()}/cancel", null)).EnsureStatusAsync(HttpStatusCode.OK);
        await LedgerScenarios.EventuallyAsync(async () => await CouponStatusAsync(buyer, coupon) == "unused", "the coupon back");
        await (await CheckoutAsync(buyer, sku, 2, coupon)).EnsureStatusAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_claim_a_redemption_and_a_release_each_leave_their_event_in_the_coupons_outbox()
    {
        var sku = await factory.SkuAsync((await factory.NewUserAsync("merchandiser")).Client, stock: 5, price: 12_000);
        var template = await TemplateAsync(total: 5, perUser: 1);
        using var buyer = factory.Buyer(Guid.NewGuid());
        var coupon = (await (await ClaimAsync(buyer, template)).JsonAsync(HttpStatusCode.Created)).GetProperty("couponId").GetString()!;
        var order = (await (await CheckoutAsync(buyer, sku, 1, coupon)).JsonAsync(HttpStatusCode.Created)).GetProperty("orderId").GetString()!;
        await (await buyer.PostAsync($"/api/orders/{order}/cancel", null)).EnsureStatusAsync(HttpStatusCode.OK);

        await LedgerScenarios.EventuallyAsync(async () => (await CouponEventsAsync(coupon)).Count == 3, "claimed, redeemed and released");
        var events = await CouponEventsAsync(coupon);
        Assert.Equal(["FlashMall.Contracts.Coupons.CouponClaimed", "FlashMall.Contracts.Coupons.CouponRedeemed", "FlashMall.Contracts.Coupons.CouponReleased"],
            events.Select(e => e.Type));
        Assert.Contains("\"Discount\":1000", events[1].Payload, StringComparison.Ordinal);
        Assert.Contains(order, events[1].Payload, StringComparison.Ordinal);
    }

    private Task<List<OutboxMessage>> CouponEventsAsync(string coupon) => factory.WithScopeAsync(s =>
        s.GetRequiredService<CouponsDbContext>().Set<OutboxMessage>().AsNoTracking().Where(m => m.AggregateId == coupon).OrderBy(m => m.Sequence).ToListAsync());

    [Fact]
    public async Task Percent_discounts_round_down_to_the_fen_and_stop_at_their_cap()
    {
        using var merchandiser = (await factory.NewUserAsync("merchandiser")).Client;
        var cheap = await factory.SkuAsync(merchandiser, stock: 10, price: 9_999);
        var dear = await factory.SkuAsync(merchandiser, stock: 10, price: 20_000);
        var created = await merchandiser.PostAsJsonAsync("/api/admin/coupon-templates", new
        {
            name = "85折 15% off", kind = "percent_off", value = 15, maxDiscount = 2_000, minSpend = 0, totalQuantity = 10, perUserLimit = 2,
            validFrom = DateTimeOffset.UtcNow.AddMinutes(-1), validTo = DateTimeOffset.UtcNow.AddDays(1),
        });
        var template = (await created.JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;
        using var buyer = factory.Buyer(Guid.NewGuid());
        var first = (await (await ClaimAsync(buyer, template)).JsonAsync(HttpStatusCode.Created)).GetProperty("couponId").GetString()!;
        var second = (await (await ClaimAsync(buyer, template)).JsonAsync(HttpStatusCode.Created)).GetProperty("couponId").GetString()!;

        // 15% of 9,999 is 1,499.85: 1,499 off, 8,500 to pay.
        Assert.Equal(8_500, (await (await CheckoutAsync(buyer, cheap, 1, first)).JsonAsync(HttpStatusCode.Created)).GetProperty("total").GetInt64());
        // 15% of 20,000 is 3,000, capped at 2,000.
        Assert.Equal(18_000, (await (await CheckoutAsync(buyer, dear, 1, second)).JsonAsync(HttpStatusCode.Created)).GetProperty("total").GetInt64());
    }
}

/// <summary>Coupons limited to categories (and their subtrees), and coupons that stack.</summary>
public sealed class CouponScopeTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    private static readonly object Address = new { name = "王五", phone = "13900139000", line1 = "中山路 8 号", city = "广州", region = "广东省" };

    private static async Task<string> TemplateAsync(HttpClient merchandiser, string kind, long value, long minSpend, string[]? categoryIds = null, bool? stackable = null)
    {
        var created = await merchandiser.PostAsJsonAsync("/api/admin/coupon-templates", new
        {
            name = "品类券 Category coupon", kind, value, minSpend, totalQuantity = 10, perUserLimit = 3,
            validFrom = DateTimeOffset.UtcNow.AddMinutes(-1), validTo = DateTimeOffset.UtcNow.AddDays(7), categoryIds, stackable,
        });
        return (await created.JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;
    }

    private static async Task<string> ClaimAsync(HttpClient buyer, string template) =>
        (await (await buyer.PostAsJsonAsync("/api/coupons/claim", new { templateId = template })).JsonAsync(HttpStatusCode.Created)).GetProperty("couponId").GetString()!;

    /// <summary>A SKU of a new product in <paramref name="categoryId"/>.</summary>
    private static async Task<string> SkuInAsync(HttpClient merchandiser, string categoryId, long price) =>
        (await merchandiser.CreateProductAsync(CatalogHelpers.ProductBody(categoryId, price: price))).GetProperty("skus")[0].GetProperty("id").GetString()!;

    /// <summary>A category under <paramref name="parentId"/>, straight in the store.</summary>
    private Task<string> ChildCategoryAsync(string parentId) => factory.WithScopeAsync(async services =>
    {
        var db = services.GetRequiredService<FlashMall.Catalog.Persistence.CatalogDbContext>();
        var parent = await db.Categories.SingleAsync(c => c.Id == Guid.Parse(parentId));
        var child = FlashMall.Catalog.Domain.Category.Create(Guid.CreateVersion7(), parent, "子类 Child", 0);
        db.Categories.Add(child);
        await db.SaveChangesAsync();
        return child.Id.ToString();
    });

    private static Task<HttpResponseMessage> CheckoutAsync(HttpClient buyer, object items, string[] couponIds) =>
        buyer.PostAsJsonAsync("/api/orders", new { items, couponIds, address = Address });

    [Fact]
    public async Task A_category_coupon_discounts_only_its_categorys_lines_subtree_included_and_its_minimum_counts_only_them()
    {
        var merchandiser = (await factory.NewUserAsync("merchandiser")).Client;
        var phones = await factory.CategoryAsync("手机 Phones");
        var flagships = await ChildCategoryAsync(phones);
        var books = await factory.CategoryAsync("图书 Books");
        var phone = await SkuInAsync(merchandiser, flagships, 9_000);
        var book = await SkuInAsync(merchandiser, books, 5_000);
        var tenPercentOnPhones = await TemplateAsync(merchandiser, "percent_off", 10, minSpend: 9_000, categoryIds: [phones]);
        using var buyer = factory.Buyer(Guid.NewGuid());
        var first = await ClaimAsync(buyer, tenPercentOnPhones);
        var second = await ClaimAsync(buyer, tenPercentOnPhones);

        // Only books: the coupon covers nothing here. A book bought with 8,999 of phones would not reach its minimum either.
        await (await CheckoutAsync(buyer, new[] { new { skuId = book, quantity = 3 } }, [first])).ShouldBeProblemAsync(HttpStatusCode.Conflict, "coupon_not_applicable");

        var placed = await (await CheckoutAsync(buyer, new[] { new { skuId = phone, quantity = 1 }, new { skuId = book, quantity = 1 } }, [first]))
            .JsonAsync(HttpStatusCode.Created);
        Assert.Equal(14_000 - 900, placed.GetProperty("total").GetInt64()); // 10% of the phone's 9,000 only

        var cheapPhone = await SkuInAsync(merchandiser, flagships, 8_999);
        await (await CheckoutAsync(buyer, new[] { new { skuId = cheapPhone, quantity = 1 }, new { skuId = book, quantity = 2 } }, [second]))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "coupon_not_applicable");
    }

    [Fact]
    public async Task Coupons_stack_only_when_every_template_allows_it_and_never_past_the_subtotal()
    {
        var merchandiser = (await factory.NewUserAsync("merchandiser")).Client;
        var sku = await SkuInAsync(merchandiser, await factory.CategoryAsync(), 10_000);
        var stackA = await TemplateAsync(merchandiser, "amount_off", 3_000, 0, stackable: true);
        var stackB = await TemplateAsync(merchandiser, "percent_off", 50, 0, stackable: true);
        var single = await TemplateAsync(merchandiser, "amount_off", 1_000, 0);
        using var buyer = factory.Buyer(Guid.NewGuid());
        var a1 = await ClaimAsync(buyer, stackA);
        var a2 = await ClaimAsync(buyer, stackA);
        var b = await ClaimAsync(buyer, stackB);
        var s = await ClaimAsync(buyer, single);
        var stockBefore = await factory.StockAsync(sku);

        // A coupon that does not stack refuses the pair, and nothing is used or taken.
        await (await CheckoutAsync(buyer, new[] { new { skuId = sku, quantity = 1 } }, [a1, s])).ShouldBeProblemAsync(HttpStatusCode.Conflict, "coupon_not_applicable");
        Assert.Equal(stockBefore, await factory.StockAsync(sku));
        await (await CheckoutAsync(buyer, new[] { new { skuId = sku, quantity = 1 } }, [a1, a1])).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");

        // 3,000 off, then half of 10,000 (each coupon is worked out on the eligible amount) = 8,000 off.
        var placed = await (await CheckoutAsync(buyer, new[] { new { skuId = sku, quantity = 1 } }, [a1, b])).JsonAsync(HttpStatusCode.Created);
        Assert.Equal(2_000, placed.GetProperty("total").GetInt64());

        // Three stacked worth 3,000 + 3,000 + … on a 5,000 order stop at the subtotal: the total is 0, never negative.
        var cheap = await SkuInAsync(merchandiser, await factory.CategoryAsync(), 5_000);
        var a3 = await ClaimAsync(buyer, stackA);
        var free = await (await CheckoutAsync(buyer, new[] { new { skuId = cheap, quantity = 1 } }, [a2, a3])).JsonAsync(HttpStatusCode.Created);
        Assert.Equal(0, free.GetProperty("total").GetInt64());
        var order = await (await buyer.GetAsync($"/api/orders/{free.GetProperty("orderId").GetString()}")).JsonAsync();
        Assert.Equal((5_000L, 5_000L), (order.GetProperty("subtotal").GetInt64(), order.GetProperty("discount").GetInt64()));

        // The one that does not stack still works alone.
        await (await CheckoutAsync(buyer, new[] { new { skuId = sku, quantity = 1 } }, [s])).EnsureStatusAsync(HttpStatusCode.Created);
    }
}
