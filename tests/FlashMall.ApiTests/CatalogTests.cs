using System.Net;
using System.Net.Http.Json;
using System.Text;
using FlashMall.ApiTests.Infrastructure;

namespace FlashMall.ApiTests;

public sealed class CatalogTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    [Fact]
    public async Task Product_create_read_update_delete_round_trip()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var created = await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(category, "小米手机 14 Xiaomi Phone", 399_900, "XM14-BLK"));
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal("XM14-BLK", created.GetProperty("skus")[0].GetProperty("code").GetString());

        using var anonymous = factory.CreateClient();
        var product = await (await anonymous.GetAsync($"/api/products/{id}")).JsonAsync();
        Assert.Equal("小米手机 14 Xiaomi Phone", product.GetProperty("name").GetString());
        Assert.Equal(category, product.GetProperty("categoryId").GetString());
        Assert.Equal("Huawei", product.GetProperty("brand").GetString());
        var sku = product.GetProperty("skus")[0];
        Assert.Equal(399_900, sku.GetProperty("price").GetInt64());
        Assert.Equal(10, sku.GetProperty("stock").GetInt32());
        Assert.Equal("黑色 Black", sku.GetProperty("attributes").GetProperty("颜色 Color").GetString());

        var update = new
        {
            name = "小米手机 14 Pro",
            description = "新款",
            categoryId = category,
            brand = "Xiaomi",
            skus = new[]
            {
                new { code = "XM14-BLK", price = 379_900L, stock = 8 },
                new { code = "XM14-WHT", price = 389_900L, stock = 5 },
            },
        };
        var updated = await (await merchandiser.Client.PutAsJsonAsync($"/api/admin/products/{id}", update)).JsonAsync();
        Assert.Equal(sku.GetProperty("id").GetString(), updated.GetProperty("skus")[0].GetProperty("id").GetString());

        product = await (await anonymous.GetAsync($"/api/products/{id}")).JsonAsync();
        Assert.Equal("小米手机 14 Pro", product.GetProperty("name").GetString());
        Assert.Equal(2, product.GetProperty("skus").GetArrayLength());
        Assert.Equal(379_900, product.GetProperty("price").GetInt64());

        await (await merchandiser.Client.DeleteAsync($"/api/admin/products/{id}")).EnsureStatusAsync(HttpStatusCode.NoContent);
        await (await anonymous.GetAsync($"/api/products/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await merchandiser.Client.DeleteAsync($"/api/admin/products/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Price_change_is_visible_on_the_next_read_of_the_product_and_the_list()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var id = (await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(category, price: 10_000, code: $"P-{Guid.NewGuid():N}")))
            .GetProperty("id").GetString()!;
        using var anonymous = factory.CreateClient();

        // Warm both caches.
        Assert.Equal(10_000, (await (await anonymous.GetAsync($"/api/products/{id}")).JsonAsync()).GetProperty("price").GetInt64());
        var list = await (await anonymous.GetAsync($"/api/products?categoryId={category}")).JsonAsync();
        Assert.Equal(10_000, list.GetProperty("items")[0].GetProperty("price").GetInt64());

        var current = await (await merchandiser.Client.GetAsync($"/api/admin/products/{id}")).JsonAsync();
        var code = current.GetProperty("skus")[0].GetProperty("code").GetString();
        await (await merchandiser.Client.PutAsJsonAsync($"/api/admin/products/{id}", new
        {
            name = "降价 Price drop", categoryId = category, brand = "Huawei",
            skus = new[] { new { code, price = 8_800L, stock = 10 } },
        })).EnsureStatusAsync(HttpStatusCode.OK);

        Assert.Equal(8_800, (await (await anonymous.GetAsync($"/api/products/{id}")).JsonAsync()).GetProperty("price").GetInt64());
        list = await (await anonymous.GetAsync($"/api/products?categoryId={category}")).JsonAsync();
        Assert.Equal(8_800, list.GetProperty("items")[0].GetProperty("price").GetInt64());
        Assert.Equal("降价 Price drop", list.GetProperty("items")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Matching_etag_gets_304_and_a_change_gives_a_new_etag()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var code = $"E-{Guid.NewGuid():N}";
        var id = (await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(category, code: code))).GetProperty("id").GetString()!;
        using var anonymous = factory.CreateClient();

        var first = await anonymous.GetAsync($"/api/products/{id}");
        await first.EnsureStatusAsync(HttpStatusCode.OK);
        var etag = first.Headers.ETag!;
        Assert.False(etag.IsWeak);
        Assert.Contains("public", first.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        Assert.NotNull(first.Headers.CacheControl.MaxAge);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/api/products/{id}");
        conditional.Headers.IfNoneMatch.Add(etag);
        var notModified = await anonymous.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, notModified.Headers.ETag);

        await (await merchandiser.Client.PutAsJsonAsync($"/api/admin/products/{id}", new
        {
            name = "新名字 New name", categoryId = category, brand = "Huawei", skus = new[] { new { code, price = 1L, stock = 1 } },
        })).EnsureStatusAsync(HttpStatusCode.OK);

        using var stale = new HttpRequestMessage(HttpMethod.Get, $"/api/products/{id}");
        stale.Headers.IfNoneMatch.Add(etag);
        var changed = await anonymous.SendAsync(stale);
        await changed.EnsureStatusAsync(HttpStatusCode.OK);
        Assert.NotEqual(etag, changed.Headers.ETag);
    }

    [Fact]
    public async Task Head_answers_like_get_without_a_body()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var id = (await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(category))).GetProperty("id").GetString();
        using var anonymous = factory.CreateClient();
        var get = await anonymous.GetAsync($"/api/products/{id}");
        using var request = new HttpRequestMessage(HttpMethod.Head, $"/api/products/{id}");
        var head = await anonymous.SendAsync(request);

        await head.EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        using var headList = new HttpRequestMessage(HttpMethod.Head, "/api/products");
        await (await anonymous.SendAsync(headList)).EnsureStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Anonymous_is_401_and_a_buyer_is_403_on_admin_routes()
    {
        var category = await factory.CategoryAsync();
        using var anonymous = factory.CreateClient();
        await (await anonymous.PostAsJsonAsync("/api/admin/products", CatalogHelpers.ProductBody(category)))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        var buyer = await factory.NewUserAsync();
        await (await buyer.Client.PostAsJsonAsync("/api/admin/products", CatalogHelpers.ProductBody(category)))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await buyer.Client.DeleteAsync($"/api/admin/products/{Guid.NewGuid()}")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    public static TheoryData<string, string, string> BadBodies(string category) => new()
    {
        { "malformed JSON", """{"name": "x", """, "invalid_json" },
        { "price as text", $$"""{"name":"x","categoryId":"{{category}}","brand":"b","skus":[{"code":"c","price":"abc","stock":1}]}""", "invalid_json" },
        { "price with fen fraction", $$"""{"name":"x","categoryId":"{{category}}","brand":"b","skus":[{"code":"c","price":99.5,"stock":1}]}""", "invalid_json" },
        { "missing fields", "{}", "validation_failed" },
        { "negative price", $$"""{"name":"x","categoryId":"{{category}}","brand":"b","skus":[{"code":"c","price":-100,"stock":1}]}""", "validation_failed" },
        { "zero price", $$"""{"name":"x","categoryId":"{{category}}","brand":"b","skus":[{"code":"c","price":0,"stock":1}]}""", "validation_failed" },
        { "negative stock", $$"""{"name":"x","categoryId":"{{category}}","brand":"b","skus":[{"code":"c","price":1,"stock":-1}]}""", "validation_failed" },
        { "no SKUs", $$"""{"name":"x","categoryId":"{{category}}","brand":"b","skus":[]}""", "validation_failed" },
        { "duplicate SKU codes", $$"""{"name":"x","categoryId":"{{category}}","brand":"b","skus":[{"code":"c","price":1,"stock":1},{"code":"c","price":2,"stock":1}]}""", "validation_failed" },
        { "unknown category", $$"""{"name":"x","categoryId":"{{Guid.NewGuid()}}","brand":"b","skus":[{"code":"c","price":1,"stock":1}]}""", "validation_failed" },
        { "category not an id", """{"name":"x","categoryId":"phones","brand":"b","skus":[{"code":"c","price":1,"stock":1}]}""", "validation_failed" },
        { "name too long", $$"""{"name":"{{new string('名', 201)}}","categoryId":"{{category}}","brand":"b","skus":[{"code":"c","price":1,"stock":1}]}""", "validation_failed" },
        { "body is an array", "[1,2,3]", "invalid_json" },
        { "body is null", "null", "invalid_json" },
        { "body is empty", "", "invalid_json" },
    };

    [Fact]
    public async Task Bad_product_bodies_are_4xx_problems_with_a_code_and_write_nothing()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var before = await factory.CountProductsAsync();

        foreach (var row in BadBodies(category))
        {
            var (what, body, code) = ((string)row[0], (string)row[1], (string)row[2]);
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            var response = await merchandiser.Client.PostAsync("/api/admin/products", content);
            try
            {
                await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, code);
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"{what}: {ex.Message}");
            }
        }

        Assert.Equal(before, await factory.CountProductsAsync());
    }

    [Fact]
    public async Task Ten_megabyte_string_is_413_and_writes_nothing()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var before = await factory.CountProductsAsync();
        var huge = new string('x', 10 * 1024 * 1024);

        var response = await merchandiser.Client.PostAsJsonAsync("/api/admin/products", CatalogHelpers.ProductBody(category, name: huge));

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        Assert.Equal(before, await factory.CountProductsAsync());
    }

    [Fact]
    public async Task Wrong_content_type_is_415()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        using var content = new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded");
        await (await merchandiser.Client.PostAsync("/api/admin/products", content)).ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Fact]
    public async Task Duplicate_sku_code_across_products_is_409_and_writes_nothing()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        var code = $"DUP-{Guid.NewGuid():N}";
        await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(category, code: code));
        var before = await factory.CountProductsAsync();
        await (await merchandiser.Client.PostAsJsonAsync("/api/admin/products", CatalogHelpers.ProductBody(category, code: code)))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "sku_code_exists");
        Assert.Equal(before, await factory.CountProductsAsync());
    }

    [Fact]
    public async Task Unknown_and_malformed_product_ids_are_404()
    {
        using var anonymous = factory.CreateClient();
        await (await anonymous.GetAsync($"/api/products/{Guid.NewGuid()}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await anonymous.GetAsync("/api/products/'%20OR%201=1")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Page_size_is_capped_at_100_and_bad_paging_is_400()
    {
        using var anonymous = factory.CreateClient();
        var page = await (await anonymous.GetAsync("/api/products?pageSize=1000")).JsonAsync();
        Assert.Equal(100, page.GetProperty("pageSize").GetInt32());
        await (await anonymous.GetAsync("/api/products?page=0")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await anonymous.GetAsync("/api/products?pageSize=-5")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await anonymous.GetAsync("/api/products?page=abc")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Unknown_category_filter_is_404()
    {
        using var anonymous = factory.CreateClient();
        await (await anonymous.GetAsync($"/api/products?categoryId={Guid.NewGuid()}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await anonymous.GetAsync("/api/products?categoryId=phones")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Category_lists_include_products_of_child_categories()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var (parent, child) = await factory.WithScopeAsync(async services =>
        {
            var db = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<FlashMall.Catalog.Persistence.CatalogDbContext>(services);
            var top = FlashMall.Catalog.Domain.Category.Create(Guid.CreateVersion7(), null, "家电 Appliances", 0);
            var leaf = FlashMall.Catalog.Domain.Category.Create(Guid.CreateVersion7(), top, "电饭煲 Rice cookers", 0);
            db.Categories.AddRange(top, leaf);
            await db.SaveChangesAsync();
            return (top.Id.ToString(), leaf.Id.ToString());
        });
        var id = (await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(child, "美的电饭煲 Midea"))).GetProperty("id").GetString();

        using var anonymous = factory.CreateClient();
        var list = await (await anonymous.GetAsync($"/api/products?categoryId={parent}")).JsonAsync();
        Assert.Equal(1, list.GetProperty("total").GetInt32());
        Assert.Equal(id, list.GetProperty("items")[0].GetProperty("id").GetString());

        var tree = await (await anonymous.GetAsync("/api/categories")).JsonAsync();
        var node = tree.EnumerateArray().Single(c => c.GetProperty("id").GetString() == parent);
        Assert.Equal(child, node.GetProperty("children")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task Text_is_returned_as_given_never_interpreted()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var category = await factory.CategoryAsync();
        const string name = "<script>alert(1)</script> \"quoted\" 中文";
        var id = (await merchandiser.Client.CreateProductAsync(CatalogHelpers.ProductBody(category, name))).GetProperty("id").GetString();
        using var anonymous = factory.CreateClient();
        var response = await anonymous.GetAsync($"/api/products/{id}");
        Assert.Equal(name, (await response.JsonAsync()).GetProperty("name").GetString());
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.DoesNotContain("<script>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
