using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Catalog.Domain;
using FlashMall.Catalog.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>
/// The search contract, through the HTTP API: segmentation, relevance, filters, facets and their
/// counts, every sort, paging, freshness through the outbox, hostile input, suggestions, the
/// merchandisers' view and the operators' rebuild. Each test works in categories of its own, so
/// the products other tests add never change its answers.
/// </summary>
public sealed class SearchTests(SearchFactories factories) : IClassFixture<SearchFactories>
{
    /// <summary>Every scenario runs on each adapter: Lucene always, Sphinx when test.sh started one (the PostgreSQL run).</summary>
    public static TheoryData<string> Engines => [.. SearchFactories.Engines];

    public static TheoryData<string, string> HostileTexts => HostileTextList.SelectMany(text => SearchFactories.Engines.Select(engine => (engine, text)))
        .Aggregate(new TheoryData<string, string>(), (data, row) => { data.Add(row.engine, row.text); return data; });

    private static readonly string[] HostileTextList =
    [
        "\"", "\"unclosed phrase", ":", "name:手机", "*", "手*", "?", "AND(", "OR NOT AND", "(((", "\\", "[1 TO 5]", "~2^3", "   ",
        "'; DROP TABLE products; --", "@name 手机", "\\'", "MATCH('x')", "-", "!", "|", "^$", "=<>", "/1", "ZONE:(h1)",
    ];

    /// <summary>The node the running test talks to (xunit makes a new instance of this class per test).</summary>
    private FlashMallFactory factory = null!;

    private void Use(string engine) => factory = factories.For(engine);

    private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);
    /// <summary>Setting up: a test's products reach the index through the outbox (far sooner than this).</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(15);

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Chinese_words_are_segmented_and_English_words_match_any_form(string engine)
    {
        Use(engine);
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await CategoryTreeAsync("数码 Digital");
        var phone = await CreateAsync(merchandiser.Client, category.Root, "华为手机 Mate", "Huawei", 599_900);
        var keyboard = await CreateAsync(merchandiser.Client, category.Root, "机械键盘 K2 Mechanical Keyboard", "Keychron", 49_900);
        var phones = await CreateAsync(merchandiser.Client, category.Root, "Xiaomi Phones Bundle", "Xiaomi", 299_900);
        await WaitForTotalAsync($"categoryId={category.Root}", 3);

        Assert.Equal([phone], await IdsAsync($"q=手机&categoryId={category.Root}"));
        Assert.Equal([keyboard], await IdsAsync($"q=键盘&categoryId={category.Root}"));
        // One-character fragments across a word boundary are not words: 盘机 is not in 机械键盘.
        Assert.Empty(await IdsAsync($"q=盘机&categoryId={category.Root}"));
        // Latin text is case-folded and stemmed: "phone" finds "Phones".
        Assert.Equal([phones], await IdsAsync($"q=PHONE&categoryId={category.Root}"));
        // Words in both scripts at once must all match.
        Assert.Equal([phone], await IdsAsync($"q=华为 mate&categoryId={category.Root}"));
        // The brand counts as text to search too.
        Assert.Equal([keyboard], await IdsAsync($"q=keychron&categoryId={category.Root}"));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task A_word_in_the_name_ranks_above_the_same_word_in_the_description(string engine)
    {
        Use(engine);
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await CategoryTreeAsync();
        var inDescription = await CreateAsync(merchandiser.Client, category.Root, "运动水壶 Sports Bottle", "Brand", 3_900, description: "蓝牙 连接 bluetooth");
        var inName = await CreateAsync(merchandiser.Client, category.Root, "蓝牙耳机 Bluetooth Earbuds", "Brand", 19_900, description: "无线");
        await WaitForTotalAsync($"categoryId={category.Root}", 2);

        Assert.Equal([inName, inDescription], await IdsAsync($"q=蓝牙&categoryId={category.Root}"));
        Assert.Equal([inName, inDescription], await IdsAsync($"q=bluetooth&categoryId={category.Root}&sort=relevance"));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Category_filter_covers_the_subtree_and_facets_count_every_match(string engine)
    {
        Use(engine);
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var tree = await CategoryTreeAsync();
        var a1 = await CreateAsync(merchandiser.Client, tree.Left, "茶叶 Green Tea A", "Alpha", 1_000);
        var a2 = await CreateAsync(merchandiser.Client, tree.Left, "茶叶 Black Tea A", "Alpha", 2_000);
        var b1 = await CreateAsync(merchandiser.Client, tree.Left, "茶叶 White Tea B", "Beta", 3_000);
        var b2 = await CreateAsync(merchandiser.Client, tree.Right, "茶叶 Oolong Tea B", "Beta", 4_000);
        await WaitForTotalAsync($"categoryId={tree.Root}", 4);

        var all = await SearchAsync($"q=茶叶&categoryId={tree.Root}");
        Assert.Equal(4, all.GetProperty("total").GetInt32());
        Assert.Equal([(tree.Left, 3), (tree.Right, 1)], Facet(all, "category"));
        Assert.Equal([("Alpha", 2), ("Beta", 2)], Facet(all, "brand"));

        var left = await SearchAsync($"q=茶叶&categoryId={tree.Left}");
        Assert.Equal(3, left.GetProperty("total").GetInt32());
        Assert.Equal([("Alpha", 2), ("Beta", 1)], Facet(left, "brand"));

        Assert.Equal([b1, b2], await IdsAsync($"categoryId={tree.Root}&brand=Beta&sort=price_asc"));
        Assert.Equal([a2, b1], await IdsAsync($"categoryId={tree.Root}&priceMin=2000&priceMax=3000&sort=price_asc"));
        Assert.Equal([a1], await IdsAsync($"categoryId={tree.Root}&priceMax=1000"));
        Assert.Empty(await IdsAsync($"categoryId={tree.Root}&brand=Gamma"));

        // An item is what GET /api/products lists, plus the brand.
        var item = (await SearchAsync($"categoryId={tree.Right}")).GetProperty("items")[0];
        Assert.Equal(b2, item.GetProperty("id").GetString());
        Assert.Equal("茶叶 Oolong Tea B", item.GetProperty("name").GetString());
        Assert.Equal(4_000, item.GetProperty("price").GetInt64());
        Assert.Equal(0, item.GetProperty("sales").GetInt64());
        Assert.Equal("Beta", item.GetProperty("brand").GetString());
        Assert.True(item.TryGetProperty("imageUrl", out _));
        Assert.False(item.TryGetProperty("stock", out _));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Every_sort_orders_the_matches_and_ties_keep_one_order(string engine)
    {
        Use(engine);
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var tree = await CategoryTreeAsync();
        var cheap = await CreateAsync(merchandiser.Client, tree.Root, "咖啡 Coffee Cheap", "Brand", 1_000, stock: 5);
        var dear = await CreateAsync(merchandiser.Client, tree.Root, "咖啡 Coffee Dear", "Brand", 9_000, stock: 50);
        var middle = await CreateAsync(merchandiser.Client, tree.Root, "咖啡 Coffee Middle", "Brand", 5_000, stock: 0);
        await WaitForTotalAsync($"categoryId={tree.Root}", 3);

        // Sales come from paid orders; set them in the catalog and let a rebuild carry them over.
        await SetSalesAsync(cheap, 300);
        await SetSalesAsync(dear, 10);
        await SetSalesAsync(middle, 200);
        var operatorUser = await factory.NewUserAsync("operator");
        var rebuilt = await (await operatorUser.Client.PostAsync("/api/admin/search/rebuild", null)).JsonAsync();
        Assert.True(rebuilt.GetProperty("documents").GetInt32() >= 3);

        var scope = $"categoryId={tree.Root}";
        Assert.Equal([cheap, middle, dear], await IdsAsync($"{scope}&sort=price_asc"));
        Assert.Equal([dear, middle, cheap], await IdsAsync($"{scope}&sort=price_desc"));
        Assert.Equal([cheap, middle, dear], await IdsAsync($"{scope}&sort=sales"));
        Assert.Equal([middle, dear, cheap], await IdsAsync($"{scope}&sort=newest"));
        // All three match 咖啡 equally well: relevance ties fall back to the id, the same every time.
        var relevance = await IdsAsync($"q=咖啡&{scope}");
        Assert.Equal([.. new[] { cheap, dear, middle }.Order(StringComparer.Ordinal)], relevance);

        var sales = await SearchAsync($"{scope}&sort=sales");
        Assert.Equal([300L, 200L, 10L], [.. sales.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("sales").GetInt64())]);

        // Merchandisers also sort by stock, and see it, and whether the product can be bought.
        var admin = await (await merchandiser.Client.GetAsync($"/api/admin/search?{scope}&sort=stock")).JsonAsync();
        var items = admin.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([dear, cheap, middle], [.. items.Select(i => i.GetProperty("id").GetString()!)]);
        Assert.Equal([50, 5, 0], [.. items.Select(i => i.GetProperty("stock").GetInt32())]);
        Assert.Equal([true, true, false], [.. items.Select(i => i.GetProperty("onSale").GetBoolean())]);
        Assert.Equal([10L, 300L, 200L], [.. items.Select(i => i.GetProperty("sales").GetInt64())]);
        Assert.Equal(JsonValueKind.Null, items[0].GetProperty("margin").ValueKind);

        // Stock is the merchandisers' sort only.
        await (await factory.CreateClient().GetAsync($"/api/search?{scope}&sort=stock")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Merchandisers_see_the_margin_of_the_cheapest_sku_and_shoppers_never_do(string engine)
    {
        Use(engine);
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var tree = await CategoryTreeAsync();
        object Body(long cheapCost) => new
        {
            name = "茶叶 Tea Costed", description = "", categoryId = tree.Root, brand = "Brand",
            skus = new object[]
            {
                new { code = $"C-{Guid.NewGuid():N}", price = 5_000L, stock = 5, cost = cheapCost },
                new { code = $"C-{Guid.NewGuid():N}", price = 8_000L, stock = 5, cost = 1_000L },
            },
        };
        var costed = (await merchandiser.Client.CreateProductAsync(Body(3_200))).GetProperty("id").GetString()!;
        var uncosted = await CreateAsync(merchandiser.Client, tree.Root, "茶叶 Tea Uncosted", "Brand", 9_000);
        await WaitForTotalAsync($"categoryId={tree.Root}", 2);

        async Task<Dictionary<string, JsonElement>> MarginsAsync()
        {
            var admin = await (await merchandiser.Client.GetAsync($"/api/admin/search?categoryId={tree.Root}")).JsonAsync();
            return admin.GetProperty("items").EnumerateArray().ToDictionary(i => i.GetProperty("id").GetString()!, i => i.GetProperty("margin"));
        }
        var margins = await MarginsAsync();
        Assert.Equal(1_800, margins[costed].GetInt64()); // 5,000 − 3,200: the cheapest SKU's, not the 7,000 of the dearer one
        Assert.Equal(JsonValueKind.Null, margins[uncosted].ValueKind);

        // A cost above the price (a loss leader) is a negative margin; an edit shows at once.
        var codes = await (await merchandiser.Client.GetAsync($"/api/products/{costed}")).JsonAsync();
        var update = new
        {
            name = "茶叶 Tea Costed", description = "", categoryId = tree.Root, brand = "Brand",
            skus = codes.GetProperty("skus").EnumerateArray().Select(sku => (object)new
            {
                code = sku.GetProperty("code").GetString(), price = sku.GetProperty("price").GetInt64(), stock = 5,
                cost = sku.GetProperty("price").GetInt64() == 5_000 ? 6_000L : 1_000L,
            }).ToArray(),
        };
        await (await merchandiser.Client.PutAsJsonAsync($"/api/admin/products/{costed}", update)).EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Equal(-1_000, (await MarginsAsync())[costed].GetInt64());

        // Shoppers never see it.
        var shopper = await SearchAsync($"categoryId={tree.Root}");
        Assert.Equal(2, shopper.GetProperty("items").GetArrayLength());
        Assert.All(shopper.GetProperty("items").EnumerateArray(), i => Assert.False(i.TryGetProperty("margin", out _)));
        Assert.DoesNotContain("cost", (await (await factory.CreateClient().GetAsync($"/api/products/{costed}")).Content.ReadAsStringAsync()), StringComparison.Ordinal);

        // A negative cost is refused.
        await (await merchandiser.Client.PostAsJsonAsync("/api/admin/products", Body(-1))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Paging_returns_every_match_exactly_once_in_every_sort(string engine)
    {
        Use(engine);
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var tree = await CategoryTreeAsync();
        var created = new List<string>();
        for (var i = 0; i < 23; i++)
        {
            // Equal names and prices: every order is decided by its tie-break.
            created.Add(await CreateAsync(merchandiser.Client, tree.Root, "充电宝 Power Bank", "Brand", 9_900));
        }
        await WaitForTotalAsync($"categoryId={tree.Root}", 23);

        foreach (var sort in new[] { "relevance", "price_asc", "price_desc", "sales", "newest" })
        {
            var seen = new List<string>();
            for (var page = 1; page <= 5; page++)
            {
                var answer = await SearchAsync($"q=充电宝&categoryId={tree.Root}&sort={sort}&page={page}&pageSize=5");
                Assert.Equal(23, answer.GetProperty("total").GetInt32());
                Assert.Equal(page, answer.GetProperty("page").GetInt32());
                Assert.Equal(5, answer.GetProperty("pageSize").GetInt32());
                seen.AddRange(answer.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
            }
            Assert.Equal(created.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
            Assert.Empty(await IdsAsync($"q=充电宝&categoryId={tree.Root}&sort={sort}&page=6&pageSize=5"));
        }
        // Far past the end (a scraper, a bug): still the total, no items, no error.
        var deep = await SearchAsync($"q=充电宝&categoryId={tree.Root}&page=10000000&pageSize=100");
        Assert.Equal(23, deep.GetProperty("total").GetInt32());
        Assert.Equal(0, deep.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task A_created_changed_or_deleted_product_shows_in_search_within_a_second(string engine)
    {
        Use(engine);
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var tree = await CategoryTreeAsync();
        var scope = $"categoryId={tree.Root}";

        var id = await CreateAsync(merchandiser.Client, tree.Root, "扫地机器人 Robot Vacuum", "Ecovacs", 199_900);
        await WaitUntilAsync(async () => (await IdsAsync($"q=机器人&{scope}")).SequenceEqual([id]), Freshness, "the created product");

        var current = await (await merchandiser.Client.GetAsync($"/api/admin/products/{id}")).JsonAsync();
        var code = current.GetProperty("skus")[0].GetProperty("code").GetString();
        await (await merchandiser.Client.PutAsJsonAsync($"/api/admin/products/{id}", new
        {
            name = "空气净化器 Air Purifier", categoryId = tree.Root, brand = "Midea",
            skus = new[] { new { code, price = 88_800L, stock = 3 } },
        })).EnsureStatusAsync(HttpStatusCode.OK);
        await WaitUntilAsync(async () =>
        {
            var answer = await SearchAsync($"q=净化器&{scope}");
            return answer.GetProperty("total").GetInt32() == 1
                && answer.GetProperty("items")[0].GetProperty("price").GetInt64() == 88_800
                && answer.GetProperty("items")[0].GetProperty("brand").GetString() == "Midea";
        }, Freshness, "the changed product");
        Assert.Empty(await IdsAsync($"q=机器人&{scope}"));

        await (await merchandiser.Client.DeleteAsync($"/api/admin/products/{id}")).EnsureStatusAsync(HttpStatusCode.NoContent);
        await WaitUntilAsync(async () => (await SearchAsync(scope)).GetProperty("total").GetInt32() == 0, Freshness, "the deleted product gone");
        Assert.Empty(await SuggestAsync("空气净化器 air"));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Stock_taken_by_an_order_and_given_back_by_its_cancel_reaches_internal_search_within_a_second(string engine)
    {
        Use(engine);
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var tree = await CategoryTreeAsync();
        var created = await merchandiser.Client.CreateProductAsync(new
        {
            name = "电饭煲 Rice Cooker", description = "", categoryId = tree.Root, brand = "Midea",
            skus = new[] { new { code = $"S-{Guid.NewGuid():N}", price = 29_900L, stock = 10 } },
        });
        var skuId = created.GetProperty("skus")[0].GetProperty("id").GetString();
        await WaitForTotalAsync($"categoryId={tree.Root}", 1);

        using var buyer = factory.Buyer(Guid.NewGuid());
        var placed = await (await buyer.PostAsJsonAsync("/api/orders", new
        {
            items = new[] { new { skuId, quantity = 3 } },
            address = new { name = "张三", phone = "13800138000", line1 = "人民路 1 号", city = "上海", region = "上海市" },
        })).JsonAsync(HttpStatusCode.Created);
        await WaitUntilAsync(async () => await AdminStockAsync(merchandiser.Client, tree.Root) == 7, Freshness, "stock 7 after the order");

        await (await buyer.PostAsync($"/api/orders/{placed.GetProperty("orderId").GetString()}/cancel", null)).EnsureStatusAsync(HttpStatusCode.OK);
        await WaitUntilAsync(async () => await AdminStockAsync(merchandiser.Client, tree.Root) == 10, Freshness, "stock 10 after the cancel");
    }

    private static async Task<int> AdminStockAsync(HttpClient merchandiser, string categoryId) =>
        (await (await merchandiser.GetAsync($"/api/admin/search?categoryId={categoryId}")).JsonAsync()).GetProperty("items")[0].GetProperty("stock").GetInt32();

    [Theory]
    [MemberData(nameof(HostileTexts))]
    public async Task Query_syntax_in_the_text_is_only_text(string engine, string text)
    {
        Use(engine);
        using var client = factory.CreateClient();
        var answer = await (await client.GetAsync($"/api/search?q={Uri.EscapeDataString(text)}")).JsonAsync();
        Assert.True(answer.GetProperty("total").GetInt32() >= 0);
        var suggestions = await (await client.GetAsync($"/api/search/suggest?q={Uri.EscapeDataString(text)}")).JsonAsync();
        Assert.Equal(JsonValueKind.Array, suggestions.GetProperty("suggestions").ValueKind);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Syntax_characters_around_real_words_still_find_them(string engine)
    {
        Use(engine);
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var tree = await CategoryTreeAsync();
        var id = await CreateAsync(merchandiser.Client, tree.Root, "华为手机 Mate", "Huawei", 599_900);
        await WaitForTotalAsync($"categoryId={tree.Root}", 1);

        foreach (var text in new[] { "\"手机\"", "手机:", "(手机", "mate*", "华为:mate", "+mate -", "~手机^" })
        {
            var found = await IdsAsync($"q={Uri.EscapeDataString(text)}&categoryId={tree.Root}");
            Assert.True(found.SequenceEqual([id]), $"q={text} found {found.Count}");
        }
        // Nothing but punctuation matches nothing, rather than everything.
        Assert.Empty(await IdsAsync($"q={Uri.EscapeDataString("\"*:(")}&categoryId={tree.Root}"));
        // No text at all browses: every product of the category.
        Assert.Equal([id], await IdsAsync($"q=&categoryId={tree.Root}"));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Invalid_parameters_answer_400_with_the_field_named(string engine)
    {
        Use(engine);
        using var client = factory.CreateClient();
        var tooLong = new string('手', 201);
        var problem = await (await client.GetAsync($"/api/search?q={tooLong}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("q", out _));
        await (await client.GetAsync($"/api/search/suggest?q={tooLong}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        // 200 characters are still a query.
        await (await client.GetAsync($"/api/search?q={new string('手', 200)}")).JsonAsync();

        foreach (var (query, field) in new[]
        {
            ("sort=cheapest", "sort"), ("categoryId=not-an-id", "categoryId"), ("priceMin=abc", "priceMin"), ("priceMin=-1", "priceMin"),
            ("priceMax=1.5", "priceMax"), ("priceMin=500&priceMax=100", "priceMax"), ($"brand={new string('b', 65)}", "brand"),
            ("q=%01", "q"),
        })
        {
            problem = await (await client.GetAsync($"/api/search?{query}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{query} should name {field}");
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Suggestions_complete_a_prefix_with_product_names_best_sellers_first(string engine)
    {
        Use(engine);
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var tree = await CategoryTreeAsync();
        var tag = string.Concat(Guid.NewGuid().ToString("N")[..10].Select(c => (char)('a' + (c % 26))));
        var low = await CreateAsync(merchandiser.Client, tree.Root, $"{tag}lamp 台灯", "Brand", 5_000);
        var high = await CreateAsync(merchandiser.Client, tree.Root, $"{tag}light 灯带", "Brand", 5_000);
        await CreateAsync(merchandiser.Client, tree.Root, "Unrelated 无关", "Brand", 5_000);
        await WaitForTotalAsync($"categoryId={tree.Root}", 3);
        await SetSalesAsync(high, 50);
        await SetSalesAsync(low, 5);
        var operatorUser = await factory.NewUserAsync("operator");
        await (await operatorUser.Client.PostAsync("/api/admin/search/rebuild", null)).EnsureStatusAsync(HttpStatusCode.OK);

        Assert.Equal([$"{tag}light 灯带", $"{tag}lamp 台灯"], await SuggestAsync(tag.ToUpperInvariant()));
        Assert.Equal([$"{tag}lamp 台灯"], await SuggestAsync($"{tag}la"));
        Assert.Empty(await SuggestAsync(""));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Internal_search_is_for_merchandisers_and_rebuild_for_operators(string engine)
    {
        Use(engine);
        using var anonymous = factory.CreateClient();
        var buyer = await factory.NewUserAsync();
        var merchandiser = await factory.NewUserAsync("merchandiser");

        await (await anonymous.GetAsync("/api/admin/search")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        await (await buyer.Client.GetAsync("/api/admin/search")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await merchandiser.Client.GetAsync("/api/admin/search")).JsonAsync();

        await (await anonymous.PostAsync("/api/admin/search/rebuild", null)).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        await (await merchandiser.Client.PostAsync("/api/admin/search/rebuild", null)).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task A_rebuild_swaps_in_a_new_index_while_search_keeps_answering(string engine)
    {
        Use(engine);
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var tree = await CategoryTreeAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await CreateAsync(merchandiser.Client, tree.Root, $"积木 Blocks {i}", "LEGO", 10_000 + i));
        }
        await WaitForTotalAsync($"categoryId={tree.Root}", 5);
        var operatorUser = await factory.NewUserAsync("operator");

        using var stop = new CancellationTokenSource();
        using var client = factory.CreateClient();
        var answers = 0;
        var readers = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Every answer during the rebuild is complete: never an error, never a partial index.
                Assert.Equal(ids, await IdsAsync($"categoryId={tree.Root}&sort=price_asc", client));
                answers++;
            }
        });
        for (var i = 0; i < 3; i++)
        {
            await (await operatorUser.Client.PostAsync("/api/admin/search/rebuild", null)).JsonAsync();
        }
        await stop.CancelAsync();
        await readers;
        Assert.True(answers > 0);

        // Changes keep flowing into the index that was swapped in.
        var added = await CreateAsync(merchandiser.Client, tree.Root, "积木 Blocks new", "LEGO", 20_000);
        await WaitUntilAsync(async () => (await IdsAsync($"categoryId={tree.Root}&sort=price_asc")).SequenceEqual([.. ids, added]), Freshness, "a product added after the rebuild");
    }

    private sealed record CategoryTree(string Root, string Left, string Right);

    /// <summary>A root with two children, created in the store (categories have no write API yet).</summary>
    private Task<CategoryTree> CategoryTreeAsync(string name = "测试 Test") => factory.WithScopeAsync(async services =>
    {
        var db = services.GetRequiredService<CatalogDbContext>();
        var root = Category.Create(Guid.CreateVersion7(), null, name, 0);
        var left = Category.Create(Guid.CreateVersion7(), root, $"{name} 左 Left", 0);
        var right = Category.Create(Guid.CreateVersion7(), root, $"{name} 右 Right", 1);
        db.Categories.AddRange(root, left, right);
        await db.SaveChangesAsync();
        return new CategoryTree(root.Id.ToString(), left.Id.ToString(), right.Id.ToString());
    });

    private Task<int> SetSalesAsync(string productId, long sales) => factory.WithScopeAsync(async services =>
    {
        var id = Guid.Parse(productId);
        return await services.GetRequiredService<CatalogDbContext>().Products.Where(p => p.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Sales, sales));
    });

    private static async Task<string> CreateAsync(
        HttpClient merchandiser, string categoryId, string name, string brand, long price, int stock = 10, string description = "")
    {
        var created = await merchandiser.CreateProductAsync(new
        {
            name, description, categoryId, brand,
            skus = new[] { new { code = $"S-{Guid.NewGuid():N}", price, stock, attributes = new Dictionary<string, string> { ["颜色 Color"] = "黑色 Black" } } },
        });
        return created.GetProperty("id").GetString()!;
    }

    private async Task<JsonElement> SearchAsync(string query, HttpClient? client = null)
    {
        using var own = client is null ? factory.CreateClient() : null;
        return await (await (client ?? own!).GetAsync($"/api/search?{query}")).JsonAsync();
    }

    private async Task<List<string>> IdsAsync(string query, HttpClient? client = null) =>
        [.. (await SearchAsync(query, client)).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!)];

    private async Task<List<string>> SuggestAsync(string prefix)
    {
        using var client = factory.CreateClient();
        var answer = await (await client.GetAsync($"/api/search/suggest?q={Uri.EscapeDataString(prefix)}")).JsonAsync();
        return [.. answer.GetProperty("suggestions").EnumerateArray().Select(s => s.GetString()!)];
    }

    private static List<(string Value, int Count)> Facet(JsonElement answer, string name) =>
        [.. answer.GetProperty("facets").GetProperty(name).EnumerateArray().Select(f => (f.GetProperty("value").GetString()!, f.GetProperty("count").GetInt32()))];

    private Task WaitForTotalAsync(string query, int total) =>
        WaitUntilAsync(async () => (await SearchAsync(query)).GetProperty("total").GetInt32() == total, Settle, $"{total} products for {query}");

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < within, $"Search did not show {what} within {within.TotalSeconds} s.");
            await Task.Delay(20);
        }
    }
}

/// <summary>One node per adapter, shared by the scenarios of <see cref="SearchTests"/>.</summary>
public sealed class SearchFactories : IAsyncLifetime, IDisposable
{
    public const string Lucene = "Lucene";
    public const string Sphinx = "Sphinx";

    public static IEnumerable<string> Engines => TestEnvironment.Sphinx is null ? [Lucene] : [Lucene, Sphinx];

    private readonly FlashMallFactory _lucene = new();
    private readonly SphinxSearchFactory? _sphinx = TestEnvironment.Sphinx is null ? null : new();

    public FlashMallFactory For(string engine) => engine == Sphinx ? _sphinx ?? throw new InvalidOperationException("No Sphinx server in this run.") : _lucene;

    public async Task InitializeAsync()
    {
        await ((IAsyncLifetime)_lucene).InitializeAsync();
        if (_sphinx is not null)
        {
            await ((IAsyncLifetime)_sphinx).InitializeAsync();
        }
    }

    public void Dispose()
    {
        _lucene.Dispose();
        _sphinx?.Dispose();
    }

    public async Task DisposeAsync()
    {
        await ((IAsyncLifetime)_lucene).DisposeAsync();
        if (_sphinx is not null)
        {
            await ((IAsyncLifetime)_sphinx).DisposeAsync();
        }
    }
}

/// <summary>A node whose search engine is the Sphinx searchd test.sh started (its real-time index is shared by the run: tests keep to their own categories).</summary>
public sealed class SphinxSearchFactory : FlashMallFactory
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Search:Engine"] = "Sphinx";
        Settings["ConnectionStrings:Search"] = TestEnvironment.Sphinx;
    }
}

/// <summary>A node whose search engine does not answer (nothing listens on its port): shoppers' search answers from the database, flagged; the shop keeps working.</summary>
public sealed class SearchEngineDownTests(SearchEngineDownTests.UnreachableSphinxFactory factory) : IClassFixture<SearchEngineDownTests.UnreachableSphinxFactory>
{
    public sealed class UnreachableSphinxFactory : FlashMallFactory
    {
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            Settings["Search:Engine"] = "Sphinx";
            Settings["ConnectionStrings:Search"] = $"Server=127.0.0.1;Port={port};SslMode=None;Connection Reset=false;Connection Timeout=2";
        }
    }

    private static object Body(string category, string name, string brand, string description, long price) => new
    {
        name,
        description,
        categoryId = category,
        brand,
        skus = new[] { new { code = $"D-{Guid.NewGuid():N}", price, stock = 5 } },
    };

    [Fact]
    public async Task Search_answers_from_the_database_flagged_with_filters_sorts_and_paging_while_the_catalog_still_serves()
    {
        using var client = factory.CreateClient();
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var inName = (await merchandiser.Client.CreateProductAsync(Body(category, "华为手机 Mate Alpha", "Huawei", "旗舰 flagship", 199_900))).GetProperty("id").GetString();
        var inDescription = (await merchandiser.Client.CreateProductAsync(Body(category, "小米 Phone Beta", "Xiaomi", "一款好手机 a phone", 99_900))).GetProperty("id").GetString();
        var tablet = (await merchandiser.Client.CreateProductAsync(Body(category, "苹果 iPad Gamma", "Apple", "平板 tablet", 299_900))).GetProperty("id").GetString();

        async Task<JsonElement> SearchAsync(string query)
        {
            var response = await client.GetAsync($"/api/search?categoryId={category}&{query}");
            var answer = await response.JsonAsync(HttpStatusCode.OK);
            Assert.Equal("database", response.Headers.GetValues("X-Served-From").Single());
            Assert.True(answer.GetProperty("degraded").GetBoolean());
            return answer;
        }
        static List<string?> Ids(JsonElement answer) => [.. answer.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString())];

        // Chinese: a word in the name or the description; names holding it first.
        var chinese = await SearchAsync("q=" + Uri.EscapeDataString("手机"));
        Assert.Equal([inName, inDescription], Ids(chinese));
        Assert.Equal(2, chinese.GetProperty("total").GetInt32());
        Assert.Equal("华为手机 Mate Alpha", chinese.GetProperty("items")[0].GetProperty("name").GetString());
        Assert.Equal(199_900, chinese.GetProperty("items")[0].GetProperty("price").GetInt64());
        // Facets count every match (not only the page), as the engines do: leaf category and brand.
        static List<(string?, int)> Facet(JsonElement answer, string name) =>
            [.. answer.GetProperty("facets").GetProperty(name).EnumerateArray().Select(f => (f.GetProperty("value").GetString(), f.GetProperty("count").GetInt32()))];
        Assert.Equal([(category, 2)], Facet(chinese, "category"));
        Assert.Equal([("Huawei", 1), ("Xiaomi", 1)], Facet(chinese, "brand"));
        var firstOfTwo = await SearchAsync("pageSize=1&sort=price_asc");
        Assert.Equal([(category, 3)], Facet(firstOfTwo, "category"));
        Assert.Equal([("Apple", 1), ("Huawei", 1), ("Xiaomi", 1)], Facet(firstOfTwo, "brand"));
        Assert.Empty(Facet(await SearchAsync("q=nothing-matches-this"), "brand"));
        // English, whatever the case; every word must match.
        Assert.Equal([inDescription], Ids(await SearchAsync("q=PHONE")));
        Assert.Empty(Ids(await SearchAsync("q=phone%20flagship")));
        Assert.Equal([inName], Ids(await SearchAsync("q=mate%20FLAGSHIP")));
        // A wildcard is a character, not a pattern ("Phone" would match ph%ne and ph_ne as LIKE patterns).
        Assert.Empty(Ids(await SearchAsync("q=ph%25ne")));
        Assert.Empty(Ids(await SearchAsync("q=ph_ne")));
        // Filters.
        Assert.Equal([tablet], Ids(await SearchAsync("brand=Apple")));
        Assert.Equal([inDescription], Ids(await SearchAsync("priceMax=150000")));
        Assert.Equal([inName, tablet], Ids(await SearchAsync("priceMin=150000&sort=price_asc")));
        // Sorts and paging.
        Assert.Equal([tablet, inName, inDescription], Ids(await SearchAsync("sort=price_desc")));
        Assert.Equal([tablet, inDescription], Ids(await SearchAsync("sort=newest&pageSize=2")));
        var second = await SearchAsync("sort=price_desc&page=2&pageSize=2");
        Assert.Equal([inDescription], Ids(second));
        Assert.Equal(3, second.GetProperty("total").GetInt32());
        Assert.Equal(2, second.GetProperty("page").GetInt32());
        // Another category's products never appear.
        var other = await factory.CategoryAsync();
        var empty = await (await client.GetAsync($"/api/search?categoryId={other}&q=" + Uri.EscapeDataString("手机"))).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(0, empty.GetProperty("total").GetInt32());

        // Suggestions are a nicety: none, flagged.
        var suggest = await client.GetAsync("/api/search/suggest?q=" + Uri.EscapeDataString("华为"));
        var suggestions = await suggest.JsonAsync(HttpStatusCode.OK);
        Assert.Empty(suggestions.GetProperty("suggestions").EnumerateArray());
        Assert.True(suggestions.GetProperty("degraded").GetBoolean());

        // Merchandisers' internal search needs the engine: refused with a code, never a 500.
        var admin = await merchandiser.Client.GetAsync("/api/admin/search");
        await admin.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "search_unavailable");
        Assert.Equal("5", admin.Headers.RetryAfter?.ToString());
        // The catalog does not depend on search.
        var list = await (await client.GetAsync($"/api/products?categoryId={category}")).JsonAsync();
        Assert.Equal(3, list.GetProperty("total").GetInt32());
    }
}

/// <summary>Sales counted from paid orders reach the index through the outbox: the "sales" sort follows what buyers pay for.</summary>
public sealed class SearchSalesTests(PaymentsFactory factory) : IClassFixture<PaymentsFactory>
{
    [Fact]
    public async Task Units_of_a_paid_order_count_in_search_sales_within_a_second_of_the_catalog()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var quiet = (await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(category, "无人问津 Quiet"))).GetProperty("id").GetString()!;
        var created = await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(category, "畅销 Best Seller"));
        var sold = created.GetProperty("id").GetString()!;
        var sku = created.GetProperty("skus")[0].GetProperty("id").GetString();
        using var anonymous = factory.CreateClient();
        await LedgerScenarios.EventuallyAsync(async () =>
            (await (await anonymous.GetAsync($"/api/search?categoryId={category}")).JsonAsync()).GetProperty("total").GetInt32() == 2, "both products indexed");

        using var buyer = factory.Buyer(Guid.NewGuid());
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/orders")
        {
            Content = JsonContent.Create(new
            {
                items = new[] { new { skuId = sku, quantity = 3 } },
                address = new { name = "李四", phone = "13800138000", line1 = "长安街 1 号", city = "北京", region = "北京市" },
            }),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var orderId = (await (await buyer.SendAsync(request)).JsonAsync(HttpStatusCode.Created)).GetProperty("orderId").GetString()!;
        var paymentId = await PaymentsFactory.PayAsync(buyer, orderId);
        await (await anonymous.PostAsync($"/simulator/payments/{paymentId}/succeed", null)).EnsureStatusAsync(HttpStatusCode.OK);

        // The catalog counts the units first; search hears of it through the catalog's outbox.
        await LedgerScenarios.EventuallyAsync(async () =>
            (await (await anonymous.GetAsync($"/api/products/{sold}")).JsonAsync()).GetProperty("sales").GetInt64() == 3, "the catalog's sales");
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var answer = await (await anonymous.GetAsync($"/api/search?categoryId={category}&sort=sales")).JsonAsync();
            var items = answer.GetProperty("items");
            if (items[0].GetProperty("id").GetString() == sold && items[0].GetProperty("sales").GetInt64() == 3)
            {
                Assert.Equal(quiet, items[1].GetProperty("id").GetString());
                break;
            }
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), "Search did not show the paid units within 1 s of the catalog.");
            await Task.Delay(20);
        }
    }
}
