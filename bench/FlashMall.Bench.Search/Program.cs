using System.Diagnostics;
using System.Globalization;
using FlashMall.Contracts.Catalog;
using FlashMall.Kernel.Persistence;
using FlashMall.Search;
using FlashMall.Search.Domain;
using FlashMall.Search.Lucene;
using FlashMall.Search.Sphinx;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// bench/search.sh [PRODUCTS] [SECONDS_PER_TARGET] [WORKERS]: builds each index from the same
// generated products, then runs the same Chinese/English query mix against each target for a
// fixed time from WORKERS concurrent callers, in process (no HTTP): the adapters' own cost.
var products = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
var workers = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
var sphinx = Environment.GetEnvironmentVariable("FLASHMALL_TEST_SPHINX") is { Length: > 0 } s ? s : null;

var folder = Path.Combine(Path.GetTempPath(), $"flashmall-bench-search-{Guid.NewGuid():N}");
Directory.CreateDirectory(folder);
try
{
    var catalog = Catalog.Generate(products);
    Console.Error.WriteLine($"generated {catalog.Count} products");
    var queries = Queries.Mix(catalog);
    var results = new List<(string Target, string Build, Load Load)>();

    // SQL LIKE baseline: the same products in SQLite, words matched with LIKE '%word%' on name or description.
    var sqlitePath = Path.Combine(folder, "like.db");
    var watch = Stopwatch.StartNew();
    await Like.LoadAsync(sqlitePath, catalog);
    var likeBuild = watch.Elapsed;
    Console.Error.WriteLine($"SQLite loaded in {likeBuild.TotalSeconds:F1} s");
    results.Add(("SQL LIKE (SQLite, baseline)", $"{likeBuild.TotalSeconds:F1} s (insert)", await Load.RunAsync(workers, seconds, queries, () => new Like(sqlitePath))));

    var options = Options.Create(new SearchOptions { Directory = Path.Combine(folder, "lucene"), ConnectionString = sphinx });
    using (var lucene = new LuceneSearchIndex(options, Options.Create(new DataOptions { Directory = folder }), NullLogger<LuceneSearchIndex>.Instance))
    {
        var report = await lucene.RebuildAsync(new GeneratedCatalog(catalog), CancellationToken.None);
        Console.Error.WriteLine($"Lucene built: {report!.Documents} documents in {report.Elapsed.TotalSeconds:F1} s");
        results.Add(("Lucene.NET (embedded)", $"{report.Elapsed.TotalSeconds:F1} s", await Load.RunAsync(workers, seconds, queries, () => new Engine(lucene))));
    }
    if (sphinx is not null)
    {
        using var index = new SphinxSearchIndex(options, NullLogger<SphinxSearchIndex>.Instance);
        var report = await index.RebuildAsync(new GeneratedCatalog(catalog), CancellationToken.None);
        Console.Error.WriteLine($"Sphinx built: {report!.Documents} documents in {report.Elapsed.TotalSeconds:F1} s");
        results.Add(("Sphinx 2.2 (SphinxQL)", $"{report.Elapsed.TotalSeconds:F1} s", await Load.RunAsync(workers, seconds, queries, () => new Engine(index))));
    }

    var baseline = results[0].Load.PerSecond;
    Console.WriteLine($"Search at {products:N0} products, {workers} concurrent callers, {seconds} s per target, {queries.Count} distinct queries (Chinese, English, mixed; filters and sorts)");
    Console.WriteLine();
    Console.WriteLine("| target | index build | queries/s | ratio to LIKE | p50 | p99 | mean matches |");
    Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
    foreach (var (target, build, load) in results)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {target} | {build} | {load.PerSecond:F0} | {load.PerSecond / baseline:F1} | {load.P50:F2} ms | {load.P99:F2} ms | {load.MeanTotal:F0} |"));
    }
}
finally
{
    Directory.Delete(folder, recursive: true);
}

/// <summary>What one caller runs.</summary>
internal interface ITarget : IDisposable
{
    Task<int> SearchAsync(SearchQuery query);
}

internal sealed class Engine(ISearchIndex index) : ITarget
{
    public async Task<int> SearchAsync(SearchQuery query) => (await index.SearchAsync(query, CancellationToken.None)).Total;

    public void Dispose()
    {
    }
}

/// <summary>The naive baseline: every word LIKE '%word%' on name or description, the total counted, a page sorted.</summary>
internal sealed class Like : ITarget
{
    private static readonly string[] Columns = ["$id", "$name", "$description", "$brand", "$price", "$sales", "$created"];

    private readonly SqliteConnection _connection;

    public Like(string path)
    {
        _connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=false");
        _connection.Open();
    }

    public static async Task LoadAsync(string path, IReadOnlyList<SearchableProduct> products)
    {
        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        await using (var create = connection.CreateCommand())
        {
            create.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE products (id TEXT PRIMARY KEY, name TEXT, description TEXT, brand TEXT, price INTEGER, sales INTEGER, created INTEGER);"
                + "CREATE INDEX ix_sales ON products (sales); CREATE INDEX ix_price ON products (price);";
            await create.ExecuteNonQueryAsync();
        }
        await using var transaction = connection.BeginTransaction();
        await using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO products VALUES ($id, $name, $description, $brand, $price, $sales, $created)";
        var parameters = Columns.Select(n => insert.Parameters.Add(new SqliteParameter(n, null))).ToArray();
        foreach (var p in products)
        {
            parameters[0].Value = p.Id.ToString();
            parameters[1].Value = p.Name;
            parameters[2].Value = p.Description;
            parameters[3].Value = p.Brand;
            parameters[4].Value = p.Price;
            parameters[5].Value = p.Sales;
            parameters[6].Value = p.CreatedAt.UtcTicks;
            await insert.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    public async Task<int> SearchAsync(SearchQuery query)
    {
        var words = query.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var where = new List<string>();
        await using var count = _connection.CreateCommand();
        await using var page = _connection.CreateCommand();
        for (var i = 0; i < words.Length; i++)
        {
            where.Add($"(name LIKE $w{i} OR description LIKE $w{i})");
            count.Parameters.AddWithValue($"$w{i}", $"%{words[i]}%");
            page.Parameters.AddWithValue($"$w{i}", $"%{words[i]}%");
        }
        if (query.Brand is { } brand)
        {
            where.Add("brand = $brand");
            count.Parameters.AddWithValue("$brand", brand);
            page.Parameters.AddWithValue("$brand", brand);
        }
        var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
        var order = query.Sort switch
        {
            SearchSort.PriceAscending => "price ASC, id",
            SearchSort.PriceDescending => "price DESC, id",
            SearchSort.Newest => "created DESC, id",
            _ => "sales DESC, id",
        };
        count.CommandText = $"SELECT COUNT(*) FROM products {filter}";
        page.CommandText = $"SELECT id, name, price, sales, brand FROM products {filter} ORDER BY {order} LIMIT {query.Take} OFFSET {query.Skip}";
        var total = Convert.ToInt32(await count.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        await using var reader = await page.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
        }
        return total;
    }

    public void Dispose() => _connection.Dispose();
}

internal sealed record Load(double PerSecond, double P50, double P99, double MeanTotal)
{
    public static async Task<Load> RunAsync(int workers, int seconds, IReadOnlyList<SearchQuery> queries, Func<ITarget> target)
    {
        // Warm-up: JIT, caches, the first reader.
        using (var warm = target())
        {
            foreach (var query in queries.Take(50))
            {
                await warm.SearchAsync(query);
            }
        }
        var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var latencies = new List<double>[workers];
        var totals = new long[workers];
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            using var callee = target();
            var mine = latencies[w] = [];
            for (var i = w; Stopwatch.GetTimestamp() < until; i += workers)
            {
                var start = Stopwatch.GetTimestamp();
                totals[w] += await callee.SearchAsync(queries[i % queries.Count]);
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        })));
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Load(all.Length / (double)seconds, all[all.Length / 2], all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))], totals.Sum() / (double)all.Length);
    }
}

internal static class Queries
{
    private static readonly string[] Texts =
    [
        "手机", "华为 手机", "耳机", "蓝牙耳机", "机械键盘", "笔记本", "充电宝", "智能手表", "咖啡", "茶叶", "运动鞋", "面霜",
        "phone", "huawei phone", "keyboard", "laptop", "power bank", "coffee", "sneakers", "smartwatch", "lenovo laptop", "tea",
        "小米 phone", "华为 mate", "apple 耳机", "",
    ];

    public static List<SearchQuery> Mix(IReadOnlyList<SearchableProduct> catalog)
    {
        var random = new Random(7);
        var brands = catalog.Select(p => p.Brand).Distinct().Order(StringComparer.Ordinal).ToArray();
        var sorts = new[] { SearchSort.Relevance, SearchSort.Relevance, SearchSort.Sales, SearchSort.PriceAscending, SearchSort.Newest };
        var queries = new List<SearchQuery>();
        for (var i = 0; i < 400; i++)
        {
            var text = Texts[random.Next(Texts.Length)];
            var brand = random.Next(5) == 0 ? brands[random.Next(brands.Length)] : null;
            var page = random.Next(4) == 0 ? random.Next(2, 6) : 1;
            queries.Add(new SearchQuery(text, null, brand, null, null, sorts[random.Next(sorts.Length)], (page - 1) * 20, 20));
        }
        return queries;
    }
}

/// <summary>Deterministic bilingual products, shaped like the demo catalog's.</summary>
internal static class Catalog
{
    private static readonly (string Zh, string En)[] Kinds =
    [
        ("手机", "Phone"), ("耳机", "Earphones"), ("蓝牙耳机", "Bluetooth Earbuds"), ("智能手表", "Smartwatch"), ("充电宝", "Power Bank"),
        ("笔记本", "Laptop"), ("平板", "Tablet"), ("机械键盘", "Mechanical Keyboard"), ("显示器", "Monitor"), ("电饭煲", "Rice Cooker"),
        ("空气净化器", "Air Purifier"), ("扫地机器人", "Robot Vacuum"), ("T恤", "T-Shirt"), ("运动鞋", "Sneakers"), ("双肩包", "Backpack"),
        ("面霜", "Face Cream"), ("口红", "Lipstick"), ("电动牙刷", "Electric Toothbrush"), ("坚果", "Nuts"), ("茶叶", "Tea"), ("咖啡", "Coffee"),
    ];

    private static readonly (string Zh, string En)[] Brands =
    [
        ("华为", "Huawei"), ("小米", "Xiaomi"), ("苹果", "Apple"), ("荣耀", "Honor"), ("联想", "Lenovo"), ("戴尔", "Dell"), ("美的", "Midea"),
        ("格力", "Gree"), ("李宁", "Li-Ning"), ("安踏", "Anta"), ("耐克", "Nike"), ("欧莱雅", "L'Oreal"), ("飞利浦", "Philips"), ("雀巢", "Nestle"),
    ];

    private static readonly string[] Models = ["Pro", "Max", "Lite", "Mini", "Plus", "Ultra", "SE", "Neo"];

    public static List<SearchableProduct> Generate(int count)
    {
        var random = new Random(42);
        var categories = Kinds.Select((_, i) => (Top: new Guid(i / 4 + 1, 0, 0, new byte[8]), Leaf: new Guid(i + 100, 0, 0, new byte[8]))).ToArray();
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var products = new List<SearchableProduct>(count);
        for (var i = 0; i < count; i++)
        {
            var k = random.Next(Kinds.Length);
            var (zh, en) = Kinds[k];
            var brand = Brands[random.Next(Brands.Length)];
            var model = $"{Models[random.Next(Models.Length)]} {random.Next(1, 100)}";
            var stock = random.Next(0, 500);
            products.Add(new SearchableProduct(
                Guid.CreateVersion7(start.AddSeconds(i)), $"{brand.Zh}{zh} {model} {brand.En} {en}",
                $"{brand.Zh} {model} {zh}，正品行货，全国联保。{brand.En} {model} {en.ToLowerInvariant()}, genuine with nationwide warranty.",
                brand.En, categories[k].Leaf, [categories[k].Top, categories[k].Leaf], [$"类目{k / 4} Group {k / 4}", $"{zh} {en}"],
                ["颜色 Color 黑色 Black"], random.Next(1_000, 1_000_000), random.Next(0, 100_000), stock, null, stock > 0, start.AddSeconds(i)));
        }
        return products;
    }

}

/// <summary>The generated products in id order, as the catalog hands them to a rebuild.</summary>
internal sealed class GeneratedCatalog(List<SearchableProduct> products) : ICatalogReader
{
    public Task<IReadOnlyList<SearchableProduct>> ReadPageAsync(Guid? afterId, int limit, CancellationToken cancellationToken)
    {
        var from = afterId is null ? 0 : products.FindIndex(p => p.Id == afterId) + 1;
        return Task.FromResult<IReadOnlyList<SearchableProduct>>(products.GetRange(from, Math.Min(limit, products.Count - from)));
    }

    public Task<IReadOnlyList<SearchableProduct>> FindAsync(IReadOnlyCollection<Guid> productIds, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<SearchableProduct>>([.. products.Where(p => productIds.Contains(p.Id))]);
}
