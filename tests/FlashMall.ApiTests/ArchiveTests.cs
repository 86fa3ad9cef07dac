using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DuckDB.NET.Data;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Archive.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>A node whose business archive writes under its data folder (the default).</summary>
public sealed class ArchiveFactory : PaymentsFactory
{
    public string DataDirectory => Settings["Data:Directory"]!;
}

/// <summary>A node whose business archive writes to a bucket of its own on the S3-compatible server test.sh starts.</summary>
public sealed class S3ArchiveFactory : PaymentsFactory
{
    public string Bucket { get; } = $"fm-archive-{Guid.NewGuid():N}";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (TestEnvironment.S3 is null)
        {
            return;
        }
        using (var client = ArchiveScenario.S3Client())
        {
            await client.PutBucketAsync(Bucket);
        }
        Settings["Archive:Store"] = "S3";
        Settings["Archive:S3:ServiceUrl"] = TestEnvironment.S3;
        Settings["Archive:S3:Bucket"] = Bucket;
        Settings["Archive:S3:AccessKey"] = TestEnvironment.S3AccessKey;
        Settings["Archive:S3:SecretKey"] = TestEnvironment.S3SecretKey;
        Settings["Archive:S3:Prefix"] = "shop/";
    }
}

/// <summary>
/// The business archive end to end: a day of real orders, payments, a flash sale, coupons and searches;
/// the day's Parquet files read back with DuckDB (row counts, column types, amounts); the GMV report;
/// a re-run that replaces rather than duplicates; bad days and ranges; who may run it.
/// </summary>
public sealed class ArchiveTests(ArchiveFactory factory) : IClassFixture<ArchiveFactory>
{
    [Fact]
    public async Task A_days_business_events_are_archived_as_hive_partitioned_parquet_that_duckdb_reads_and_a_rerun_replaces_them()
    {
        var day = await ArchiveScenario.RunDayAsync(factory);
        var root = factory.DataDirectory;
        await ArchiveScenario.AssertFilesAsync(root, day);

        // Nothing written outside the day's partitions, and no temporary file left behind.
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(root, "archive"), "*", SearchOption.AllDirectories),
            f => !f.EndsWith(".parquet", StringComparison.Ordinal) || !f.Contains($"dt={day}", StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, "archive-tmp")));
    }
}

/// <summary>Refusals, on a node of its own (it asserts that nothing at all was archived).</summary>
public sealed class ArchiveRefusalTests(ArchiveFactory factory) : IClassFixture<ArchiveFactory>
{
    [Fact]
    public async Task Bad_days_and_ranges_are_refused_with_a_code_and_write_nothing_and_only_admins_may_archive()
    {
        using var admin = await factory.AdminClientAsync();
        var tomorrow = DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-dd");
        foreach (var day in new[] { "", "2026-13-01", "26-11-2026", "2026-11-26T00:00:00Z", "yesterday", tomorrow })
        {
            await (await admin.PostAsync($"/api/admin/archive/run?day={Uri.EscapeDataString(day)}", null))
                .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "archive_day_invalid");
        }
        await (await admin.PostAsync("/api/admin/archive/run", null)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "archive_day_invalid");
        foreach (var range in new[] { "from=2026-11-01", "to=2026-11-01", "from=2026-11-02&to=2026-11-01", "from=2026-02-30&to=2026-03-01",
            "from=2024-01-01&to=2026-01-01", "from=x&to=y" })
        {
            await (await admin.GetAsync($"/api/admin/archive/reports/gmv-by-day-category?{range}"))
                .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "archive_range_invalid");
        }
        Assert.False(Directory.Exists(Path.Combine(factory.DataDirectory, "archive")));
        Assert.Equal(0, await factory.WithScopeAsync(s => s.GetRequiredService<ArchiveDbContext>().Days.CountAsync()));

        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        using var buyer = factory.Buyer(Guid.NewGuid());
        using var operatorClient = (await factory.NewUserAsync("operator")).Client;
        using var anonymous = factory.CreateClient();
        foreach (var client in new[] { buyer, operatorClient })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync($"/api/admin/archive/run?day={today}", null)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/api/admin/archive/reports/gmv-by-day-category?from={today}&to={today}")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"/api/admin/archive/run?day={today}", null)).StatusCode);
        Assert.False(Directory.Exists(Path.Combine(factory.DataDirectory, "archive")));

        // A range with no archive yet is an empty report, not an error.
        var empty = await (await admin.GetAsync("/api/admin/archive/reports/gmv-by-day-category?from=2020-01-01&to=2020-01-31")).JsonAsync();
        Assert.Equal(0, empty.GetProperty("rows").GetArrayLength());
    }
}

public sealed class S3ArchiveTests(S3ArchiveFactory factory) : IClassFixture<S3ArchiveFactory>
{
    [S3Fact]
    public async Task A_days_business_events_are_archived_to_the_bucket_and_reported_from_local_copies()
    {
        var day = await ArchiveScenario.RunDayAsync(factory);
        // The bucket holds exactly the day's partitions under the prefix; read them back as DuckDB would after a download.
        var local = Path.Combine(Path.GetTempPath(), "flashmall-tests", $"archive-s3-{Guid.NewGuid():N}");
        try
        {
            using var s3 = ArchiveScenario.S3Client();
            var objects = (await s3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = factory.Bucket })).S3Objects;
            Assert.All(objects, o => Assert.Matches($"^shop/archive/[a-z]+/dt={day}/part-0\\.parquet$", o.Key));
            foreach (var o in objects)
            {
                using var response = await s3.GetObjectAsync(factory.Bucket, o.Key);
                var path = Path.Combine(local, o.Key["shop/".Length..]);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await using var file = File.Create(path);
                await response.ResponseStream.CopyToAsync(file);
            }
            await ArchiveScenario.AssertFilesAsync(local, day);
        }
        finally
        {
            if (Directory.Exists(local))
            {
                Directory.Delete(local, recursive: true);
            }
        }
    }
}

/// <summary>The day both archive tests run: what they do, and what the files and the report must then hold.</summary>
internal static class ArchiveScenario
{
    private static readonly object Address = new { name = "王五", phone = "13800138000", line1 = "南京路 2 号", city = "上海", region = "上海市" };

    public static Amazon.S3.AmazonS3Client S3Client() => new(
        new Amazon.Runtime.BasicAWSCredentials(TestEnvironment.S3AccessKey, TestEnvironment.S3SecretKey),
        new Amazon.S3.AmazonS3Config
        {
            ServiceURL = TestEnvironment.S3, ForcePathStyle = true, AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
        });

    private static async Task<string> SkuInAsync(FlashMallFactory node, HttpClient merchandiser, string category, long price)
    {
        var product = await merchandiser.CreateProductAsync(CatalogHelpers.ProductBody(category, price: price));
        return product.GetProperty("skus")[0].GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> CheckoutAsync(HttpClient buyer, object[] items, string? coupon = null) =>
        await (await buyer.PostAsJsonAsync("/api/orders", new { items, couponId = coupon, address = Address })).JsonAsync(HttpStatusCode.Created);

    private static async Task PayAsync(FlashMallFactory node, HttpClient buyer, JsonElement placed)
    {
        var orderId = placed.GetProperty("orderId").GetString()!;
        var paymentId = await PaymentsFactory.PayAsync(buyer, orderId);
        using var provider = node.CreateClient();
        var body = PaymentsFactory.Event($"evt_{Guid.NewGuid():N}", "payment.succeeded", paymentId, placed.GetProperty("total").GetInt64());
        await (await provider.SendAsync(PaymentsFactory.Webhook(body))).EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Equal("paid", await PaymentTests.StatusAsync(buyer, orderId));
    }

    private static Task<Dictionary<string, int>> StagedAsync(FlashMallFactory node) => node.WithScopeAsync(s =>
        s.GetRequiredService<ArchiveDbContext>().StagedEvents.GroupBy(e => e.Dataset).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(x => x.Key, x => x.Count));

    /// <summary>
    /// Two categories; buyer 1 pays 2 phones (24,690 fen); buyer 2 pays a phone and 3 cables with a
    /// 1,000-off coupon (21,345 of lines, 20,345 paid); buyer 3 claims a coupon, orders a cable and
    /// cancels; two buyers reserve in a flash sale; three searches. Then the day is archived twice.
    /// </summary>
    public static async Task<string> RunDayAsync(FlashMallFactory node)
    {
        var day = DateTime.UtcNow.ToString("yyyy-MM-dd");
        using var merchandiser = (await node.NewUserAsync("merchandiser")).Client;
        var phones = await node.CategoryAsync("手机 Phones");
        var cables = await node.CategoryAsync("配件 Cables");
        var phone = await SkuInAsync(node, merchandiser, phones, 12_345);
        var cable = await SkuInAsync(node, merchandiser, cables, 3_000);
        var template = (await (await merchandiser.PostAsJsonAsync("/api/admin/coupon-templates", new
        {
            name = "满100减10 Ten off", kind = "amount_off", value = 1_000, minSpend = 10_000, totalQuantity = 10, perUserLimit = 1,
            validFrom = DateTimeOffset.UtcNow.AddMinutes(-1), validTo = DateTimeOffset.UtcNow.AddDays(7),
        })).JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;

        using var first = node.Buyer(Guid.NewGuid());
        await PayAsync(node, first, await CheckoutAsync(first, [new { skuId = phone, quantity = 2 }]));

        using var second = node.Buyer(Guid.NewGuid());
        var coupon = (await (await second.PostAsJsonAsync("/api/coupons/claim", new { templateId = template })).JsonAsync(HttpStatusCode.Created))
            .GetProperty("couponId").GetString()!;
        var withCoupon = await CheckoutAsync(second, [new { skuId = phone, quantity = 1 }, new { skuId = cable, quantity = 3 }], coupon);
        Assert.Equal(20_345, withCoupon.GetProperty("total").GetInt64());
        await PayAsync(node, second, withCoupon);

        using var third = node.Buyer(Guid.NewGuid());
        await (await third.PostAsJsonAsync("/api/coupons/claim", new { templateId = template })).EnsureStatusAsync(HttpStatusCode.Created);
        var cancelled = await CheckoutAsync(third, [new { skuId = cable, quantity = 1 }]);
        await (await third.PostAsync($"/api/orders/{cancelled.GetProperty("orderId").GetString()}/cancel", null)).EnsureStatusAsync(HttpStatusCode.OK);

        var sale = await node.LiveSaleAsync(merchandiser, quantity: 5, perUserLimit: 1);
        foreach (var buyer in new[] { first, third })
        {
            Assert.True((await buyer.PurchaseAsync(sale)).IsSuccessStatusCode);
        }
        Assert.Equal(2, (await node.StoredAsync(sale)).Reservations);

        using var shopper = node.CreateClient();
        foreach (var q in new[] { "手机", "cable", "华为 Mate" })
        {
            await (await shopper.GetAsync($"/api/search?q={Uri.EscapeDataString(q)}")).JsonAsync();
        }

        // Orders: 3 placed, 2 paid, 1 cancelled; payments: 2 captured; coupons: 2 claimed, 1 redeemed (searches are queued in memory).
        await LedgerScenarios.EventuallyAsync(async () =>
        {
            var staged = await StagedAsync(node);
            return staged.GetValueOrDefault("orders") == 6 && staged.GetValueOrDefault("payments") == 2 && staged.GetValueOrDefault("coupons") == 3;
        }, "the day's events staged for the archive");

        using var admin = await node.AdminClientAsync();
        var run = await (await admin.PostAsync($"/api/admin/archive/run?day={day}", null)).JsonAsync();
        Assert.Equal(day, run.GetProperty("day").GetString());
        var rows = run.GetProperty("datasets").EnumerateArray().ToDictionary(d => d.GetProperty("dataset").GetString()!, d => d.GetProperty("rows").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["orders"] = 8, ["payments"] = 2, ["reservations"] = 2, ["coupons"] = 3, ["searches"] = 3 }, rows);
        var files = run.GetProperty("datasets").EnumerateArray().SelectMany(d => d.GetProperty("files").EnumerateArray().Select(f => f.GetString()!)).Order().ToList();
        Assert.Equal(["coupons", "orders", "payments", "reservations", "searches"], files.Select(f => f.Split('/')[1]).ToList());
        Assert.All(files, f => Assert.Matches($"^archive/[a-z]+/dt={day}/part-0\\.parquet$", f));

        await AssertGmvAsync(admin, day);

        // The same day again: the same files, replaced; every staged row is still there for further re-runs.
        var again = await (await admin.PostAsync($"/api/admin/archive/run?day={day}", null)).JsonAsync();
        Assert.Equal(files, again.GetProperty("datasets").EnumerateArray().SelectMany(d => d.GetProperty("files").EnumerateArray().Select(f => f.GetString()!)).Order().ToList());
        Assert.Equal(rows, again.GetProperty("datasets").EnumerateArray().ToDictionary(d => d.GetProperty("dataset").GetString()!, d => d.GetProperty("rows").GetInt64()));
        await AssertGmvAsync(admin, day);
        Assert.Equal(14, (await StagedAsync(node)).Values.Sum());
        Assert.Equal(0, await node.WithScopeAsync(s => s.GetRequiredService<ArchiveDbContext>().StagedEvents.CountAsync(e => e.ExportedAt == null)));
        return day;
    }

    private static async Task AssertGmvAsync(HttpClient admin, string day)
    {
        var report = await (await admin.GetAsync($"/api/admin/archive/reports/gmv-by-day-category?from={day}&to={day}")).JsonAsync();
        var lines = report.GetProperty("rows").EnumerateArray()
            .Select(r => (r.GetProperty("day").GetString(), r.GetProperty("category").GetString(), r.GetProperty("orders").GetInt64(), r.GetProperty("gmv").GetInt64()))
            .OrderBy(r => r.Item2, StringComparer.Ordinal)
            .ToList();
        Assert.Equal([(day, "手机 Phones", 2L, 37_035L), (day, "配件 Cables", 1L, 9_000L)], lines);
    }

    /// <summary>The day's files under <paramref name="root"/> (a data folder, or a copy of the bucket) as DuckDB reads them with Hive partitioning.</summary>
    public static async Task AssertFilesAsync(string root, string day)
    {
        await using var duck = new DuckDBConnection("DataSource=:memory:");
        await duck.OpenAsync();
        string Glob(string dataset) => $"read_parquet('{Path.Combine(root, "archive", dataset)}/*/*.parquet', hive_partitioning = true)";

        async Task<List<object?[]>> QueryAsync(string sql)
        {
            await using var command = duck.CreateCommand();
            command.CommandText = sql;
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<object?[]>();
            while (await reader.ReadAsync())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }
                rows.Add(row);
            }
            return rows;
        }

        async Task<Dictionary<string, string>> TypesAsync(string dataset) =>
            (await QueryAsync($"DESCRIBE SELECT * FROM {Glob(dataset)}")).ToDictionary(r => (string)r[0]!, r => (string)r[1]!);

        // sum() of BIGINT is a HUGEINT in DuckDB.
        async Task<long> ScalarAsync(string sql) => (long)(await QueryAsync($"SELECT CAST(({sql}) AS BIGINT)"))[0][0]!;

        Assert.Equal(8, await ScalarAsync($"SELECT count(*) FROM {Glob("orders")} WHERE dt = DATE '{day}'"));
        Assert.Equal(2, await ScalarAsync($"SELECT count(*) FROM {Glob("payments")}"));
        Assert.Equal(2, await ScalarAsync($"SELECT count(*) FROM {Glob("reservations")}"));
        Assert.Equal(3, await ScalarAsync($"SELECT count(*) FROM {Glob("coupons")}"));
        Assert.Equal(3, await ScalarAsync($"SELECT count(*) FROM {Glob("searches")}"));

        var orderEvents = (await QueryAsync($"SELECT event, count(*), count(DISTINCT order_id) FROM {Glob("orders")} GROUP BY event ORDER BY event"))
            .Select(r => ((string)r[0]!, Convert.ToInt64(r[1]), Convert.ToInt64(r[2]))).ToList();
        Assert.Equal([("cancelled", 1L, 1L), ("paid", 3L, 2L), ("placed", 4L, 3L)], orderEvents);
        Assert.Equal(46_035, await ScalarAsync($"SELECT sum(line_amount) FROM {Glob("orders")} WHERE event = 'paid'"));
        Assert.Equal(45_035, await ScalarAsync($"SELECT sum(amount) FROM {Glob("payments")} WHERE event = 'captured'"));
        Assert.Equal(1_000, await ScalarAsync($"SELECT sum(discount) FROM {Glob("coupons")} WHERE event = 'redeemed'"));
        Assert.Equal(2, await ScalarAsync($"SELECT count(*) FROM {Glob("coupons")} WHERE event = 'claimed'"));
        Assert.Equal(10_000, await ScalarAsync($"SELECT sum(amount) FROM {Glob("reservations")}"));
        Assert.Equal(1, await ScalarAsync($"SELECT count(*) FROM {Glob("searches")} WHERE query = '华为 Mate'"));

        var orders = await TypesAsync("orders");
        Assert.Equal("VARCHAR", orders["event"]);
        Assert.Equal("VARCHAR", orders["order_id"]);
        Assert.Equal("INTEGER", orders["quantity"]);
        Assert.Equal("INTEGER", orders["line_no"]);
        Assert.Equal("BIGINT", orders["unit_price"]);
        Assert.Equal("BIGINT", orders["line_amount"]);
        Assert.Equal("BIGINT", orders["order_total"]);
        Assert.Equal("TIMESTAMP WITH TIME ZONE", orders["occurred_at"]);
        Assert.Equal("DATE", orders["dt"]);
        Assert.Equal("BIGINT", (await TypesAsync("payments"))["amount"]);
        var reservations = await TypesAsync("reservations");
        Assert.Equal(("INTEGER", "BIGINT", "TIMESTAMP WITH TIME ZONE"), (reservations["quantity"], reservations["sale_price"], reservations["occurred_at"]));
        Assert.Equal("BIGINT", (await TypesAsync("coupons"))["discount"]);
        var searches = await TypesAsync("searches");
        Assert.Equal(("VARCHAR", "INTEGER", "BOOLEAN"), (searches["query"], searches["results"], searches["degraded"]));
        // Every event happened today (UTC), as its partition says.
        Assert.Equal(0, await ScalarAsync($"SELECT count(*) FROM {Glob("orders")} WHERE CAST(occurred_at AT TIME ZONE 'UTC' AS DATE) <> dt"));
    }
}

/// <summary>A node that deletes staged rows as soon as their day (before today) is in files.</summary>
public sealed class ShortRetentionArchiveFactory : FlashMallFactory
{
    public string DataDirectory => Settings["Data:Directory"]!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Archive:StagingRetention"] = "00:00:00";
    }
}

/// <summary>
/// <c>archive.daily</c> over days other than yesterday: rows of an earlier day that arrive late are
/// written, staged rows go once in files, and rows arriving after that are added beside the old
/// files, never replacing them.
/// </summary>
public sealed class ArchiveRetentionTests(ShortRetentionArchiveFactory factory) : IClassFixture<ShortRetentionArchiveFactory>
{
    private Task<int> StageClaimsAsync(DateTimeOffset at, int count) => factory.WithScopeAsync(async s =>
    {
        // Events of days ago, as a consumer would have staged them had they been delivered then.
        var db = s.GetRequiredService<ArchiveDbContext>();
        for (var i = 0; i < count; i++)
        {
            var claim = new FlashMall.Archive.Staging.StagedCoupon("claimed", Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), null, null);
            db.StagedEvents.Add(StagedEvent.Create(Guid.NewGuid(), "coupons", at.AddMinutes(i), JsonSerializer.Serialize(claim), DateTimeOffset.UtcNow));
        }
        return await db.SaveChangesAsync();
    });

    private Task<int> StagedAsync() => factory.WithScopeAsync(s => s.GetRequiredService<ArchiveDbContext>().StagedEvents.CountAsync());

    private async Task<long> ArchivedClaimsAsync(string day)
    {
        await using var duck = new DuckDBConnection("DataSource=:memory:");
        await duck.OpenAsync();
        await using var command = duck.CreateCommand();
        command.CommandText = $"SELECT count(DISTINCT event_id) FROM read_parquet('{factory.DataDirectory}/archive/coupons/*/*.parquet', hive_partitioning = true) WHERE dt = DATE '{day}'";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private List<string> Files(string day) =>
        [.. Directory.EnumerateFiles(Path.Combine(factory.DataDirectory, "archive", "coupons", $"dt={day}")).Select(f => Path.GetFileName(f)).Order()];

    [Fact]
    public async Task The_daily_job_writes_late_days_purges_what_is_in_files_and_adds_rows_that_come_later_beside_them()
    {
        using var admin = await factory.AdminClientAsync();
        var at = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(-3).AddHours(10), TimeSpan.Zero);
        var day = at.ToString("yyyy-MM-dd");
        await StageClaimsAsync(at, 2);

        var run = await (await admin.PostAsync("/api/admin/jobs/archive.daily/run", null)).JsonAsync();
        Assert.Equal("succeeded", run.GetProperty("outcome").GetString());
        Assert.Equal(["part-0.parquet"], Files(day));
        Assert.Equal(2, await ArchivedClaimsAsync(day));
        Assert.Equal(0, await StagedAsync()); // in a durable file and past the (zero) retention: gone

        // The day again by hand: its staged rows are gone, so its files are left as they are.
        await (await admin.PostAsync($"/api/admin/archive/run?day={day}", null)).JsonAsync();
        Assert.Equal(["part-0.parquet"], Files(day));
        Assert.Equal(2, await ArchivedClaimsAsync(day));

        // An event of that day delivered late: the next daily run adds a file, the first one stays.
        await StageClaimsAsync(at.AddHours(5), 1);
        run = await (await admin.PostAsync("/api/admin/jobs/archive.daily/run", null)).JsonAsync();
        Assert.Equal("succeeded", run.GetProperty("outcome").GetString());
        var files = Files(day);
        Assert.Equal(2, files.Count);
        Assert.Equal("part-0.parquet", files[0]);
        Assert.Matches(@"^part-\d{14}-0\.parquet$", files[1]);
        Assert.Equal(3, await ArchivedClaimsAsync(day));
        Assert.Equal(0, await StagedAsync());
    }
}
