using System.Collections;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.FlashSales.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace FlashMall.ApiTests;

/// <summary>
/// A node whose finished spans are kept in memory (OpenTelemetry's in-memory exporter, added to
/// the node's own tracer provider), with a test-only path that throws, and a block-listed buyer
/// for a risk refusal.
/// </summary>
public sealed class ObservabilityFactory : FlashMallFactory
{
    public const string ThrowPath = "/test-only/throw";
    public static readonly Guid BlockedBuyer = Guid.Parse("0192f0c4-0000-7000-8000-0000000b5e11");

    public SpanCollection Spans { get; } = new();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Risk:BlockList:Users:0"] = BlockedBuyer.ToString();
        Settings["OpenTelemetry:TraceSampleRatio"] = "1"; // every trace, with no collector: the spans go to the in-memory exporter
        ConfigureTestServices = services =>
        {
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));
            services.AddSingleton<IStartupFilter, ThrowingPath>();
        };
    }

    /// <summary>After the application's pipeline (so inside its exception handler): a path that fails as a bug would.</summary>
    internal sealed class ThrowingPath : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Map(ThrowPath, branch => branch.Run(_ => throw new InvalidOperationException("Forced by the test")));
        };
    }

    /// <summary>A thread-safe collection the exporter adds finished spans to.</summary>
    public sealed class SpanCollection : ICollection<Activity>
    {
        private readonly List<Activity> _spans = [];

        public int Count
        {
            get
            {
                lock (_spans)
                {
                    return _spans.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public Activity[] Of(ActivityTraceId traceId)
        {
            lock (_spans)
            {
                return [.. _spans.Where(s => s.TraceId == traceId)];
            }
        }

        public void Add(Activity item)
        {
            lock (_spans)
            {
                _spans.Add(item);
            }
        }

        public void Clear()
        {
            lock (_spans)
            {
                _spans.Clear();
            }
        }

        public bool Contains(Activity item) => throw new NotSupportedException();

        public void CopyTo(Activity[] array, int arrayIndex) => throw new NotSupportedException();

        public bool Remove(Activity item) => throw new NotSupportedException();

        public IEnumerator<Activity> GetEnumerator()
        {
            lock (_spans)
            {
                return _spans.ToList().GetEnumerator();
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

/// <summary>
/// Runs apart from the other test classes: several nodes share the test process, and when one
/// is disposed its meters end, and OpenTelemetry then drops the metric streams that another
/// node's same-named instruments fed too. In production a process holds one node.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ObservabilityGroup
{
    public const string Name = "Observability";
}

/// <summary>
/// Issue 8: one trace from a purchase to its order and through the outbox to a consumer; the
/// business metrics and the request histogram on <c>/metrics</c>; every metric the dashboards and
/// alert rules use is really exported; a bug's ProblemDetails carries the trace id its log line
/// has; passwords and tokens never reach the logs.
/// </summary>
[Collection(ObservabilityGroup.Name)]
public sealed partial class ObservabilityTests(ObservabilityFactory factory) : IClassFixture<ObservabilityFactory>
{
    private static readonly object Address = new { name = "张三 Zhang San", phone = "+86 138 0013 8000", line1 = "人民路 1 号", city = "上海", region = "上海市", postcode = "200000" };

    private static HttpRequestMessage Traced(HttpMethod method, string path, ActivityTraceId traceId, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        return request;
    }

    [Fact]
    public async Task A_purchase_is_one_trace_from_the_request_to_the_order_and_through_the_outbox_to_its_consumer()
    {
        using var merchandiser = (await factory.NewUserAsync("merchandiser")).Client;
        var sale = await factory.LiveSaleAsync(merchandiser, quantity: 5, perUserLimit: 1);
        var buyerId = Guid.NewGuid();
        using var buyer = factory.Buyer(buyerId);

        var purchaseTrace = ActivityTraceId.CreateRandom();
        var accepted = await (await buyer.SendAsync(Traced(HttpMethod.Post, $"/api/flash-sales/{sale}/purchase", purchaseTrace, new { quantity = 1 })))
            .JsonAsync(HttpStatusCode.Accepted);
        var orderId = accepted.GetProperty("reservationId").GetString()!;

        // The order worker picks the reservation up in the background; its span joins the purchase's trace.
        Activity[] trace = [];
        await LedgerScenarios.EventuallyAsync(() =>
        {
            trace = factory.Spans.Of(purchaseTrace);
            return Task.FromResult(trace.Any(s => s.OperationName == "ordering.order_from_reservation"));
        }, "the order's span in the purchase's trace");
        var request = Assert.Single(trace, s => s.Kind == ActivityKind.Server);
        Assert.Equal($"/api/flash-sales/{sale}/purchase", request.GetTagItem("url.path"));
        foreach (var part in new[] { "flash_sale.admission", "flash_sale.ledger", "flash_sale.response" })
        {
            var span = Assert.Single(trace, s => s.OperationName == part);
            Assert.Equal(request.SpanId, span.ParentSpanId);
        }
        Assert.Equal("reserved", trace.Single(s => s.OperationName == "flash_sale.ledger").GetTagItem("flashmall.outcome"));
        var order = Assert.Single(trace, s => s.OperationName == "ordering.order_from_reservation");
        Assert.Equal(ActivityKind.Consumer, order.Kind);
        Assert.Equal(orderId, order.GetTagItem("flashmall.order.id"));

        // Cancelling stores OrderCancelled in the outbox; FlashSales consumes it (in-process relay
        // or RabbitMQ) in a span of the cancel request's trace.
        var cancelTrace = ActivityTraceId.CreateRandom();
        await (await buyer.SendAsync(Traced(HttpMethod.Post, $"/api/orders/{orderId}/cancel", cancelTrace))).EnsureStatusAsync(HttpStatusCode.OK);
        await LedgerScenarios.EventuallyAsync(() => Task.FromResult(
            factory.Spans.Of(cancelTrace).Any(s => s.OperationName == "process flash-sales.release-on-order-cancelled")), "the consumer's span in the cancel's trace");
        // A span is recorded when it ends, after its children: wait until the parents of the
        // spans seen so far have ended too (the consumer's database commands end before the
        // delivery span that holds them).
        Activity[] cancel = [];
        await LedgerScenarios.EventuallyAsync(() =>
        {
            cancel = factory.Spans.Of(cancelTrace);
            return Task.FromResult(cancel.Where(s => s.Kind != ActivityKind.Server).All(s => cancel.Any(p => p.SpanId == s.ParentSpanId)));
        }, "every span of the cancel's trace with its parent");
        var consumer = cancel.Single(s => s.OperationName == "process flash-sales.release-on-order-cancelled");
        Assert.Equal(ActivityKind.Consumer, consumer.Kind);
        Assert.Equal("FlashMall.Messaging", consumer.Source.Name);
        Assert.Single(cancel, s => s.Kind == ActivityKind.Server);
        // Nothing of another trace leaked in: every span's parent is a span of this trace (or the caller's).
        Assert.All(cancel.Where(s => s.Kind != ActivityKind.Server), s => Assert.Contains(cancel, p => p.SpanId == s.ParentSpanId));
    }

    [Fact]
    public async Task A_forced_exception_answers_a_problem_whose_trace_id_is_in_the_logged_line_and_counts_its_type()
    {
        using var buyer = factory.Buyer(Guid.NewGuid());
        var problem = await (await buyer.GetAsync(ObservabilityFactory.ThrowPath)).ShouldBeProblemAsync(HttpStatusCode.InternalServerError, "internal_error");
        var traceId = problem.GetProperty("traceId").GetString()!;
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        Assert.DoesNotContain("Forced by the test", problem.ToString(), StringComparison.Ordinal); // no exception text to the client

        var line = Assert.Single(factory.Logs.Lines, l => l.Contains($"Unhandled exception on GET {ObservabilityFactory.ThrowPath}", StringComparison.Ordinal)
            && l.Contains(traceId, StringComparison.Ordinal));
        Assert.Contains("InvalidOperationException", line, StringComparison.Ordinal);

        var metrics = await ScrapeAsync();
        Assert.Matches(@"flashmall_exceptions_total\{[^}]*type=""System\.InvalidOperationException""[^}]*\} [1-9]", metrics);
    }

    [Fact]
    public async Task A_line_logged_inside_a_signed_in_request_carries_its_request_id_path_and_user_id()
    {
        var admin = await factory.NewUserAsync("admin");
        var target = await factory.NewUserAsync();
        var path = $"/api/admin/users/{target.UserId}/roles";
        await (await admin.Client.PostAsJsonAsync(path, new { roles = new[] { "merchandiser" } })).EnsureStatusAsync(HttpStatusCode.OK);

        var line = Assert.Single(factory.Logs.Lines, l => l.Contains($"Admin {admin.UserId} changed roles of {target.UserId}", StringComparison.Ordinal));
        Assert.Contains($"UserId={admin.UserId}", line, StringComparison.Ordinal);
        Assert.Contains($"RequestPath={path}", line, StringComparison.Ordinal);
        Assert.Matches(@"RequestId=[^,}\s]+", line);
    }

    [Fact]
    public async Task A_login_leaves_no_password_and_no_token_in_the_logs()
    {
        const string password = "Obs-Very-Secret-Passphrase-77";
        var email = $"obs-{Guid.NewGuid():N}@flashmall.test";
        using var client = factory.CreateClient();
        await (await client.PostAsJsonAsync("/api/accounts/register", new { email, password })).EnsureStatusAsync(HttpStatusCode.Created);
        var tokens = await factory.LoginAsync(email, password);
        using var signedIn = factory.ClientWithToken(tokens.AccessToken);
        await (await signedIn.GetAsync("/api/accounts/me")).EnsureStatusAsync(HttpStatusCode.OK);
        await (await client.PostAsJsonAsync("/api/accounts/login", new { login = email, password = password + "-wrong" }))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_credentials");

        var logs = factory.Logs.All;
        Assert.NotEmpty(factory.Logs.Lines);
        Assert.DoesNotContain(password, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(tokens.AccessToken, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(tokens.RefreshToken, logs, StringComparison.Ordinal);
        // The token's signature part alone neither.
        Assert.DoesNotContain(tokens.AccessToken.Split('.')[^1], logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_expose_the_request_histogram_each_business_metric_and_every_name_the_dashboards_and_alerts_use()
    {
        using var merchandiser = (await factory.NewUserAsync("merchandiser")).Client;
        using var operatorClient = (await factory.NewUserAsync("operator")).Client;

        // Flash sale: one unit, bought, then sold out; the order is placed and cancelled.
        var sale = await factory.LiveSaleAsync(merchandiser, quantity: 1, perUserLimit: 1);
        var firstId = Guid.NewGuid();
        using var first = factory.Buyer(firstId);
        var reservation = (await (await first.PurchaseAsync(sale)).JsonAsync(HttpStatusCode.Accepted)).GetProperty("reservationId").GetString()!;
        using var second = factory.Buyer(Guid.NewGuid());
        await (await second.PurchaseAsync(sale)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "sold_out");
        await LedgerScenarios.EventuallyAsync(async () => await factory.OrdersOfSaleAsync(sale) == 1, "the order of the reservation");
        await (await first.PostAsync($"/api/orders/{reservation}/cancel", null)).EnsureStatusAsync(HttpStatusCode.OK);

        // Checkout paid in full by a coupon: placed, paid, a coupon claimed.
        var template = await CouponTemplateAsync(merchandiser);
        var shopper = await factory.NewUserAsync();
        var coupon = (await (await shopper.Client.PostAsJsonAsync("/api/coupons/claim", new { templateId = template })).JsonAsync(HttpStatusCode.Created))
            .GetProperty("couponId").GetString();
        var sku = await factory.SkuAsync(merchandiser, stock: 5, price: 300);
        var placed = await (await shopper.Client.PostAsJsonAsync("/api/orders", new { items = new[] { new { skuId = sku, quantity = 1 } }, couponId = coupon, address = Address }))
            .JsonAsync(HttpStatusCode.Created);
        Assert.Equal("paid", placed.GetProperty("status").GetString());

        // A risk refusal, a search with no results, a reconciliation that does not add up.
        using var blocked = factory.Buyer(ObservabilityFactory.BlockedBuyer);
        await (await blocked.PostAsJsonAsync("/api/coupons/claim", new { templateId = template })).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "risk_blocked");
        await (await factory.CreateClient().GetAsync($"/api/search?q=nothing{Guid.NewGuid():N}")).EnsureStatusAsync(HttpStatusCode.OK);
        await factory.WithScopeAsync(services => services.GetRequiredService<FlashSalesDbContext>().Sales
            .Where(s => s.Id == Guid.Parse(sale)).ExecuteUpdateAsync(u => u.SetProperty(s => s.Quantity, s => s.Quantity + 1)));
        Assert.False((await (await operatorClient.GetAsync($"/api/admin/flash-sales/{sale}/reconciliation")).JsonAsync()).GetProperty("balanced").GetBoolean());
        // A bug, for the exception counter the alerts use.
        await (await factory.CreateClient().GetAsync(ObservabilityFactory.ThrowPath)).ShouldBeProblemAsync(HttpStatusCode.InternalServerError, "internal_error");

        // The backlog gauges are sampled every 10 s; the order worker records after marking its batch ordered.
        string metrics = "";
        await LedgerScenarios.EventuallyAsync(async () =>
        {
            metrics = await ScrapeAsync();
            return metrics.Contains("flashmall_outbox_backlog{", StringComparison.Ordinal);
        }, "the sampled outbox gauges; " + string.Join(" | ", factory.Logs.Lines.Where(l => l.Contains("outbox backlog", StringComparison.Ordinal)).Take(3)), seconds: 60);
        await LedgerScenarios.EventuallyAsync(async () =>
        {
            metrics = await ScrapeAsync();
            return metrics.Contains("flashmall_orders_reservation_to_order_duration_seconds_bucket", StringComparison.Ordinal);
        }, "the order worker's histogram", seconds: 60);

        // The request histogram, labelled by route and traffic class.
        Assert.Matches(@"http_server_request_duration_seconds_bucket\{[^}]*flashmall_traffic_class=""core""[^}]*http_route=""/api/flash-sales/\{id\}/purchase""", metrics);
        Assert.Matches(@"http_server_request_duration_seconds_bucket\{[^}]*flashmall_traffic_class=""noncore""[^}]*http_route=""/api/search/?""", metrics);
        AssertSample(metrics, "flashmall_flash_sales_reservations_total", "outcome=\"reserved\"");
        AssertSample(metrics, "flashmall_flash_sales_reservations_total", "outcome=\"sold_out\"");
        AssertSample(metrics, "flashmall_flash_sales_sell_out_duration_seconds_count", "");
        AssertSample(metrics, "flashmall_orders_placed_total", "source=\"flash_sale\"");
        AssertSample(metrics, "flashmall_orders_placed_total", "source=\"checkout\"");
        AssertSample(metrics, "flashmall_orders_gmv_total", "source=\"flash_sale\"");
        AssertSample(metrics, "flashmall_orders_paid_total", "source=\"checkout\"");
        AssertSample(metrics, "flashmall_orders_cancelled_total", "reason=\"buyer_cancelled\"");
        AssertSample(metrics, "flashmall_orders_reservation_to_order_duration_seconds_count", "");
        AssertSample(metrics, "flashmall_coupons_claims_total", "result=\"claimed\"");
        // The block list refuses the blocked buyer before the coupon endpoint (it covers every request): Risk counts it.
        AssertSample(metrics, "flashmall_risk_refusals_total", "rule=\"blocked_user\"");
        AssertSample(metrics, "flashmall_search_queries_total", "result=\"zero\"");
        AssertSample(metrics, "flashmall_flash_sales_reconciliation_mismatches_total", "");
        AssertSample(metrics, "flashmall_flash_sales_reconciliation_unbalanced", "");
        AssertSample(metrics, "flashmall_exceptions_total", "type=\"System.InvalidOperationException\"");
        Assert.Contains("flashmall_flash_sales_reservation_writer_queue ", metrics, StringComparison.Ordinal);
        if (TestEnvironment.RabbitMq is not null && TestEnvironment.UsesPostgres)
        {
            await LedgerScenarios.EventuallyAsync(async () =>
            {
                metrics = await ScrapeAsync(); // the names check below reads this scrape
                return metrics.Contains("flashmall_messaging_queue_depth{", StringComparison.Ordinal);
            }, "the RabbitMQ queue depth gauge", seconds: 30);
        }
        Assert.DoesNotContain(firstId.ToString(), metrics, StringComparison.Ordinal); // no user ids as labels

        // Every metric name the shipped dashboards and alert rules query is exported by this node.
        var exported = MetricName().Matches(metrics).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var labels = LabelName().Matches(metrics).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var used = UsedMetricNames();
        Assert.NotEmpty(used);
        var missing = used.Where(n => !exported.Contains(n) && !labels.Contains(n) && !OnlyWith(n)).ToList();
        Assert.True(missing.Count == 0, $"Used in deploy/ but not exported: {string.Join(", ", missing)}");
    }

    /// <summary>Names that exist only on some deployments: RabbitMQ's queue depth (asserted above when this run's nodes use the RabbitMQ transport).</summary>
    private static bool OnlyWith(string name) =>
        name == "flashmall_messaging_queue_depth" && !(TestEnvironment.RabbitMq is not null && TestEnvironment.UsesPostgres);

    private static void AssertSample(string metrics, string name, string label)
    {
        var lines = metrics.Split('\n').Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length == name.Length || l[name.Length] is '{' or ' ')).ToList();
        Assert.True(lines.Any(l => l.Contains(label, StringComparison.Ordinal) && !l.EndsWith(" 0", StringComparison.Ordinal)),
            $"{name} with {label} after its action; found: {string.Join(" | ", lines)}");
    }

    private static async Task<string> CouponTemplateAsync(HttpClient merchandiser)
    {
        var created = await merchandiser.PostAsJsonAsync("/api/admin/coupon-templates", new
        {
            name = "免单 Free", kind = "amount_off", value = 1_000, minSpend = 0, totalQuantity = 100, perUserLimit = 5,
            validFrom = DateTimeOffset.UtcNow.AddMinutes(-1), validTo = DateTimeOffset.UtcNow.AddDays(1),
        });
        return (await created.JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;
    }

    private async Task<string> ScrapeAsync()
    {
        using var client = factory.CreateClient();
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The metric names in deploy/grafana/*.json and deploy/prometheus/*.yml.</summary>
    internal static HashSet<string> UsedMetricNames()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "FlashMall.slnx")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("No FlashMall.slnx above the test binaries.");
        }
        var files = Directory.GetFiles(Path.Combine(root, "deploy", "grafana"), "*.json")
            .Concat(Directory.GetFiles(Path.Combine(root, "deploy", "prometheus"), "*.yml"));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            if (file.EndsWith(".json", StringComparison.Ordinal))
            {
                using var _ = JsonDocument.Parse(text); // a dashboard is valid JSON
            }
            foreach (Match m in UsedName().Matches(text))
            {
                names.Add(m.Value);
            }
        }
        return names;
    }

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{| )", RegexOptions.Multiline)]
    private static partial Regex MetricName();

    [GeneratedRegex(@"[{,]([a-zA-Z_][a-zA-Z0-9_]*)=""")]
    private static partial Regex LabelName();

    [GeneratedRegex(@"\b(?:flashmall|http_server|http_client|dotnet|kestrel|db_client)_[a-z0-9_]+\b")]
    private static partial Regex UsedName();
}

/// <summary>
/// A node with <c>Sentry:Dsn</c> pointing at a local receiver (an <see cref="HttpListener"/>
/// standing in for Sentry's ingestion endpoint): the official SDK's envelopes are what it records.
/// </summary>
public sealed class SentryFactory : FlashMallFactory
{
    private readonly HttpListener _listener = new();
    private readonly List<string> _envelopes = [];

    public string[] Envelopes
    {
        get
        {
            lock (_envelopes)
            {
                return [.. _envelopes];
            }
        }
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _ = Task.Run(ReceiveAsync);
        Settings["Sentry:Dsn"] = $"http://0123456789abcdef0123456789abcdef@127.0.0.1:{port}/42";
        ConfigureTestServices = services => services.AddSingleton<IStartupFilter, ObservabilityFactory.ThrowingPath>();
    }

    private async Task ReceiveAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            Stream body = context.Request.InputStream;
            if (string.Equals(context.Request.Headers["Content-Encoding"], "gzip", StringComparison.OrdinalIgnoreCase))
            {
                body = new System.IO.Compression.GZipStream(body, System.IO.Compression.CompressionMode.Decompress);
            }
            using (var reader = new StreamReader(body))
            {
                var text = await reader.ReadToEndAsync();
                lock (_envelopes)
                {
                    _envelopes.Add($"{context.Request.Url?.AbsolutePath}\n{text}");
                }
            }
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _listener.Close();
    }
}

[Collection(ObservabilityGroup.Name)]
public sealed class SentryTests(SentryFactory factory) : IClassFixture<SentryFactory>
{
    [Fact]
    public async Task With_a_Sentry_Dsn_an_unhandled_exception_reaches_Sentry_with_the_trace_id_of_the_problem()
    {
        using var client = factory.CreateClient();
        var problem = await (await client.GetAsync(ObservabilityFactory.ThrowPath)).ShouldBeProblemAsync(HttpStatusCode.InternalServerError, "internal_error");
        var traceId = problem.GetProperty("traceId").GetString()!;

        await LedgerScenarios.EventuallyAsync(() => Task.FromResult(factory.Envelopes.Any(e => e.Contains(traceId, StringComparison.Ordinal))),
            "the exception's envelope at the Sentry endpoint", seconds: 20);
        var envelope = factory.Envelopes.First(e => e.Contains(traceId, StringComparison.Ordinal));
        Assert.StartsWith("/api/42/envelope/", envelope, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException", envelope, StringComparison.Ordinal);
        Assert.Contains("\"trace_id\":\"" + traceId + "\"", envelope, StringComparison.Ordinal);
    }
}
