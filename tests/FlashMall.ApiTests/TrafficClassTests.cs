using System.Net;
using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Kernel.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

/// <summary>Every endpoint's traffic class: declared everywhere, checked at start, obeyed by noncore.shed and by --role.</summary>
public sealed class TrafficClassTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    /// <summary>Every routed endpoint of the node: its class, first method, pattern and the body type it accepts (if it declares one).</summary>
    internal static List<(TrafficClass? Class, string Method, string Pattern, string? Accepts)> Endpoints(FlashMallFactory node) =>
        [.. node.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (TrafficClass.Of(e),
                e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } methods ? methods[0] : "GET",
                "/" + e.RoutePattern.RawText!.Trim('/'),
                e.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.ContentTypes is { Count: > 0 } types ? types[0] : null))];

    /// <summary>A concrete path for a route pattern: every parameter a fresh id (constraints such as <c>:guid</c> hold).</summary>
    internal static string PathOf(string pattern) =>
        System.Text.RegularExpressions.Regex.Replace(pattern, @"\{[^}]+\}", _ => Guid.NewGuid().ToString()).TrimEnd('/') is { Length: > 0 } path ? path : "/";

    /// <summary>
    /// A request routing selects this endpoint for: its method, a concrete path and, for a body, the
    /// content type it accepts (routing answers 415 itself, before any middleware, for another).
    /// </summary>
    internal static HttpRequestMessage RequestFor(string method, string pattern, string? accepts)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), PathOf(pattern));
        if (method is not ("GET" or "HEAD" or "DELETE"))
        {
            request.Content = accepts switch
            {
                "multipart/form-data" => new MultipartFormDataContent { { new StringContent("x"), "text" } },
                null => JsonContent.Create(new { }),
                _ => new StringContent("{}", System.Text.Encoding.UTF8, accepts),
            };
        }
        return request;
    }

    /// <summary>Sends the endpoint's request until it answers <paramref name="status"/> or <paramref name="within"/> passes; the last answer.</summary>
    internal static async Task<HttpResponseMessage> AnswersWithinAsync(HttpClient client, (string Method, string Pattern, string? Accepts) endpoint, HttpStatusCode status, TimeSpan within)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var response = await client.SendAsync(RequestFor(endpoint.Method, endpoint.Pattern, endpoint.Accepts));
            if (response.StatusCode == status || clock.Elapsed >= within)
            {
                return response;
            }
            response.Dispose();
            await Task.Delay(20);
        }
    }

    [Fact]
    public void Every_endpoint_declares_core_or_noncore()
    {
        var endpoints = Endpoints(factory);
        Assert.True(endpoints.Count > 50, $"only {endpoints.Count} endpoints found");
        Assert.Empty(endpoints.Where(e => e.Class is null).Select(e => $"{e.Method} {e.Pattern}"));
        // The classification the docs state (docs/ARCHITECTURE.md), spot-checked both ways.
        var classOf = endpoints.ToLookup(e => $"{e.Method} {e.Pattern}", e => e.Class!.Name);
        Assert.Equal("core", classOf["POST /api/flash-sales/{id}/purchase"].Single());
        Assert.Equal("core", classOf["GET /api/products/{id}"].Single());
        Assert.Equal("core", classOf["POST /api/orders"].Single());
        Assert.Equal("core", classOf["POST /api/payments/webhook"].Single());
        Assert.Equal("core", classOf["PUT /api/admin/switches/{name}"].Single());
        Assert.Equal("internal", classOf["GET /health/ready"].Single());
        Assert.Equal("internal", classOf["GET /metrics"].Single());
        Assert.Equal("noncore", classOf["GET /api/products"].Single());
        Assert.Equal("noncore", classOf["GET /api/search"].Single());
        Assert.Equal("noncore", classOf["GET /api/circle/feed"].Single());
        Assert.Equal("noncore", classOf["POST /api/admin/products"].Single());
        Assert.Equal("noncore", classOf["GET /api/admin/jobs"].Single());
    }

    [Fact]
    public async Task A_node_with_an_untagged_endpoint_refuses_to_start_and_names_it()
    {
        var node = new FlashMallFactory
        {
            ConfigureTestServices = services => services.AddSingleton<IStartupFilter>(new MapsAnUntaggedEndpoint()),
        };
        await ((IAsyncLifetime)node).InitializeAsync();
        // Starting it fails (the process exits 1 with this message on stderr; here the host logs it and stops).
        await Record.ExceptionAsync(async () =>
        {
            using var client = node.CreateClient();
            await client.GetAsync("/health/live");
        });
        var failed = node.Logs.Lines.Where(l => l.Contains("The node failed to start", StringComparison.Ordinal)).ToList();
        Assert.True(failed.Count == 1, $"expected one start-up failure, got: {string.Join(" | ", failed)}");
        Assert.Contains("Every endpoint must declare its traffic class", failed[0], StringComparison.Ordinal);
        Assert.Contains("untagged: GET /test/untagged", failed[0], StringComparison.Ordinal);
        try
        {
            await ((IAsyncLifetime)node).DisposeAsync();
        }
        catch (ObjectDisposedException)
        {
            // The host already tore itself down when it failed to start.
        }
    }

    [Fact]
    public async Task Noncore_shed_refuses_every_non_core_endpoint_in_the_endpoint_table_within_a_second_while_a_purchase_succeeds()
    {
        var op = await factory.NewUserAsync("operator");
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var sale = await factory.LiveSaleAsync(merchandiser.Client, quantity: 5, perUserLimit: 1);
        using var admin = await factory.AdminClientAsync(); // every role: no refusal for want of one hides a shed
        var nonCore = Endpoints(factory).Where(e => e.Class == TrafficClass.NonCore).ToList();
        Assert.True(nonCore.Count >= 25, $"only {nonCore.Count} non-core endpoints");

        await (await op.Client.SetAsync("noncore.shed", true, "test: every non-core endpoint")).EnsureStatusAsync(HttpStatusCode.OK);
        try
        {
            var first = await admin.AnswersWithinAsync(HttpMethod.Get, "/api/products", HttpStatusCode.ServiceUnavailable, OneSecond);
            await first.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "degraded");
            foreach (var (_, method, pattern, accepts) in nonCore)
            {
                var answer = await AnswersWithinAsync(admin, (method, pattern, accepts), HttpStatusCode.ServiceUnavailable, OneSecond);
                Assert.True(answer.StatusCode == HttpStatusCode.ServiceUnavailable, $"{method} {pattern} answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
                if (!pattern.StartsWith("/api/", StringComparison.Ordinal) && answer.Content.Headers.ContentType?.MediaType == "text/html")
                {
                    // A store page: the friendly degraded page (HTML for people), same status.
                    Assert.Contains("data-page=\"degraded\"", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                }
                else
                {
                    await answer.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "degraded");
                }
                Assert.True(answer.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"{method} {pattern} has no Retry-After");
            }

            using var buyer = factory.Buyer(Guid.NewGuid());
            var purchase = await buyer.PurchaseAsync(sale, key: Guid.NewGuid().ToString());
            Assert.Equal("reserved", (await purchase.JsonAsync(HttpStatusCode.Accepted)).GetProperty("status").GetString());
        }
        finally
        {
            await (await op.Client.SetAsync("noncore.shed", false, "test: drill over")).EnsureStatusAsync(HttpStatusCode.OK);
        }
    }

    /// <summary>Maps one endpoint without a traffic class, as a module that forgot would.</summary>
    private sealed class MapsAnUntaggedEndpoint : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseRouting();
            app.UseEndpoints(endpoints => endpoints.MapGet("/test/untagged", () => "forgotten"));
            next(app);
        };
    }
}

/// <summary>A node started with <c>--role</c> <paramref name="role"/>.</summary>
public abstract class RoleFactory(string role) : FlashMallFactory
{
    public override Task InitializeAsync()
    {
        Settings["role"] = role;
        return base.InitializeAsync();
    }
}

public sealed class CoreNodeFactory() : RoleFactory("core");

public sealed class NonCoreNodeFactory() : RoleFactory("noncore");

public sealed class WorkerNodeFactory() : RoleFactory("worker");

/// <summary>A node runs one role: it answers its class of endpoints, refuses the rest with 421 wrong_role, and always answers health.</summary>
public sealed class NodeRoleTests(CoreNodeFactory core, NonCoreNodeFactory nonCore, WorkerNodeFactory worker)
    : IClassFixture<CoreNodeFactory>, IClassFixture<NonCoreNodeFactory>, IClassFixture<WorkerNodeFactory>
{
    [Fact]
    public async Task A_core_node_serves_core_and_refuses_every_non_core_endpoint_with_wrong_role()
    {
        using var client = await core.AdminClientAsync();
        await (await client.GetAsync("/api/flash-sales")).EnsureStatusAsync(HttpStatusCode.OK);
        await (await client.GetAsync("/api/accounts/me")).EnsureStatusAsync(HttpStatusCode.OK);
        await (await client.GetAsync($"/api/products/{Guid.NewGuid()}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await client.GetAsync("/api/admin/switches")).EnsureStatusAsync(HttpStatusCode.OK);
        await (await client.GetAsync("/health/ready")).EnsureStatusAsync(HttpStatusCode.OK);
        await (await client.GetAsync("/health/live")).EnsureStatusAsync(HttpStatusCode.OK);
        foreach (var (_, method, pattern, accepts) in TrafficClassTests.Endpoints(core).Where(e => e.Class == TrafficClass.NonCore))
        {
            var answer = await client.SendAsync(TrafficClassTests.RequestFor(method, pattern, accepts));
            Assert.True(answer.StatusCode == HttpStatusCode.MisdirectedRequest, $"{method} {pattern} answered {(int)answer.StatusCode} on a core node");
            await answer.ShouldBeProblemAsync(HttpStatusCode.MisdirectedRequest, "wrong_role");
        }
    }

    [Fact]
    public async Task A_noncore_node_serves_non_core_and_refuses_every_core_endpoint_with_wrong_role()
    {
        using var anonymous = nonCore.CreateClient();
        await (await anonymous.GetAsync("/api/products")).EnsureStatusAsync(HttpStatusCode.OK);
        await (await anonymous.GetAsync("/api/circle/feed")).EnsureStatusAsync(HttpStatusCode.OK);
        await (await anonymous.GetAsync("/api/search?q=phone")).EnsureStatusAsync(HttpStatusCode.OK);
        await (await anonymous.GetAsync("/health/ready")).EnsureStatusAsync(HttpStatusCode.OK);
        var login = await anonymous.PostAsJsonAsync("/api/accounts/login", new { login = FlashMallFactory.AdminEmail, password = FlashMallFactory.AdminPassword });
        await login.ShouldBeProblemAsync(HttpStatusCode.MisdirectedRequest, "wrong_role");
        foreach (var (_, method, pattern, accepts) in TrafficClassTests.Endpoints(nonCore).Where(e => e.Class == TrafficClass.Core && !e.Pattern.StartsWith("/health/", StringComparison.Ordinal)))
        {
            var answer = await anonymous.SendAsync(TrafficClassTests.RequestFor(method, pattern, accepts));
            Assert.True(answer.StatusCode == HttpStatusCode.MisdirectedRequest, $"{method} {pattern} answered {(int)answer.StatusCode} on a non-core node");
            await answer.ShouldBeProblemAsync(HttpStatusCode.MisdirectedRequest, "wrong_role");
        }
    }

    [Fact]
    public async Task A_worker_node_answers_health_only()
    {
        using var anonymous = worker.CreateClient();
        await (await anonymous.GetAsync("/health/live")).EnsureStatusAsync(HttpStatusCode.OK);
        await (await anonymous.GetAsync("/health/ready")).EnsureStatusAsync(HttpStatusCode.OK);
        await (await anonymous.GetAsync("/api/products")).ShouldBeProblemAsync(HttpStatusCode.MisdirectedRequest, "wrong_role");
        await (await anonymous.GetAsync("/api/flash-sales")).ShouldBeProblemAsync(HttpStatusCode.MisdirectedRequest, "wrong_role");
    }
}

/// <summary>Settings for the load-shedding tests: tiny limits, so one held request saturates a class.</summary>
public sealed class TinyLimitsFactory : FlashMallFactory
{
    /// <summary>On a real port: a request whose body is still coming stays in flight (the in-memory test server reads it whole first).</summary>
    public TinyLimitsFactory()
    {
        UseKestrel(0);
        // A held body trickles nothing for seconds on a loaded test machine: Kestrel's minimum
        // body data rate would abort it (and free its slot) before the test has looked.
        ConfigureTestServices = services => services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(
            kestrel => kestrel.Limits.MinRequestBodyDataRate = null);
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["LoadShedding:NonCoreMaxConcurrent"] = "1";
        Settings["LoadShedding:NonCoreShedWhenCoreInFlight"] = "1";
        Settings["LoadShedding:CoreMaxConcurrent"] = "1";
        Settings["LoadShedding:RetryAfterSeconds"] = "7";
        Settings["LoadShedding:NonCoreRefusalDelayMilliseconds"] = "300";
    }
}

/// <summary>Concurrency limits per traffic class: a saturated node sheds non-core first, core only past its own limit.</summary>
public sealed class LoadSheddingTests(TinyLimitsFactory factory) : IClassFixture<TinyLimitsFactory>
{
    [Fact]
    public async Task A_full_non_core_class_sheds_non_core_with_degraded_while_core_is_served()
    {
        using var client = factory.CreateClient();
        // Non-core, anonymous, and its handler reads a JSON body: held open, it occupies the one non-core slot.
        await using var held = await HeldRequest.StartAsync(client.BaseAddress!, "/simulator/v1/payments");
        try
        {
            // The held request reaches the gate a moment after its first byte leaves.
            var shed = await client.AnswersWithinAsync(HttpMethod.Get, "/api/products", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(15));
            await shed.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "degraded");
            Assert.Equal(TimeSpan.FromSeconds(7), shed.Headers.RetryAfter?.Delta);
            // A shed non-core request is held for NonCoreRefusalDelayMilliseconds before its 503.
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await (await client.GetAsync("/api/products")).ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "degraded");
            // Held 300 ms by a timer on the runtime's coarse tick clock (a few ms per tick on Linux): by
            // the Stopwatch it may end a few ms early. Answered at once, it would take a few ms in all.
            var waited = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            Assert.True(waited >= TimeSpan.FromMilliseconds(290), $"the refusal was not held: answered after {waited.TotalMilliseconds:F1} ms");
            await (await client.GetAsync("/api/flash-sales")).EnsureStatusAsync(HttpStatusCode.OK);
            await (await client.GetAsync("/health/ready")).EnsureStatusAsync(HttpStatusCode.OK);
        }
        finally
        {
            await held.FinishAsync();
        }
        // The held request's slot frees just after its answer has left, which the client may read first.
        await (await client.AnswersWithinAsync(HttpMethod.Get, "/api/products", HttpStatusCode.OK, TimeSpan.FromSeconds(5))).EnsureStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_busy_core_sheds_non_core_first_and_core_only_past_its_own_limit()
    {
        using var client = factory.CreateClient();
        await using var held = await HeldRequest.StartAsync(client.BaseAddress!, "/api/accounts/login"); // core, reads its body
        try
        {
            var shed = await client.AnswersWithinAsync(HttpMethod.Get, "/api/search?q=phone", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(15));
            Assert.True(shed.StatusCode == HttpStatusCode.ServiceUnavailable, $"not shed; the held request has been answered: {held.AnsweredSoFar()}");
            await shed.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "degraded");
            var core = await client.GetAsync("/api/flash-sales");
            await core.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "overloaded");
            Assert.Equal(TimeSpan.FromSeconds(7), core.Headers.RetryAfter?.Delta);
            await (await client.GetAsync("/health/live")).EnsureStatusAsync(HttpStatusCode.OK);
        }
        finally
        {
            await held.FinishAsync();
        }
        // The held login still hashes its password (hundreds of milliseconds on a loaded machine)
        // after its body ends: its core slot frees when it answers.
        await (await client.AnswersWithinAsync(HttpMethod.Get, "/api/flash-sales", HttpStatusCode.OK, TimeSpan.FromSeconds(15))).EnsureStatusAsync(HttpStatusCode.OK);
        await (await client.GetAsync("/api/search?q=phone")).EnsureStatusAsync(HttpStatusCode.OK);
    }

    /// <summary>
    /// A POST over a raw socket whose chunked JSON body sends its first byte and then waits: the
    /// request stays in flight (in the handler's body read) until <see cref="FinishAsync"/>.
    /// </summary>
    private sealed class HeldRequest : IAsyncDisposable
    {
        private readonly System.Net.Sockets.TcpClient _tcp;
        private readonly Stream _stream;
        private bool _finished;

        private HeldRequest(System.Net.Sockets.TcpClient tcp)
        {
            _tcp = tcp;
            _stream = tcp.GetStream();
        }

        public static async Task<HeldRequest> StartAsync(Uri server, string path)
        {
            var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync(server.Host, server.Port);
            var held = new HeldRequest(tcp);
            await held._stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
                $"POST {path} HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{{\r\n"));
            await held._stream.FlushAsync();
            return held;
        }

        /// <summary>What the server has answered already (nothing while the request is held).</summary>
        public string AnsweredSoFar()
        {
            if (_tcp.Available == 0)
            {
                return "nothing";
            }
            var buffer = new byte[Math.Min(_tcp.Available, 400)];
            return System.Text.Encoding.ASCII.GetString(buffer, 0, _stream.Read(buffer));
        }

        /// <summary>Sends the rest of the body and waits for the answer's status line.</summary>
        public async Task FinishAsync()
        {
            if (_finished)
            {
                return;
            }
            _finished = true;
            await _stream.WriteAsync("1\r\n}\r\n0\r\n\r\n"u8.ToArray());
            await _stream.FlushAsync();
            var buffer = new byte[64];
            await _stream.ReadAtLeastAsync(buffer, 12, throwOnEndOfStream: false).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }

        public async ValueTask DisposeAsync()
        {
            await FinishAsync();
            _tcp.Dispose();
        }
    }
}

/// <summary>A node whose admitted non-core reads run on one low-priority thread.</summary>
public sealed class LowPriorityLaneFactory : FlashMallFactory
{
    public override Task InitializeAsync()
    {
        Settings["LoadShedding:NonCoreLowPriorityThreads"] = "1";
        return base.InitializeAsync();
    }
}

/// <summary>LoadShedding:NonCoreLowPriorityThreads: non-core reads run on the lane and answer as they do on the thread pool; core and writes never go there.</summary>
public sealed class NonCoreLaneTests(LowPriorityLaneFactory factory) : IClassFixture<LowPriorityLaneFactory>
{
    [Fact]
    public async Task Non_core_reads_run_on_the_low_priority_lane_and_core_requests_and_writes_do_not()
    {
        var meters = factory.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var laned = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name == "flashmall.http.noncore_lane.requests")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref laned, (int)value));
        listener.Start();
        using var client = factory.CreateClient();
        var category = await factory.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<FlashMall.Catalog.Persistence.CatalogDbContext>();
            var created = FlashMall.Catalog.Domain.Category.Create(Guid.CreateVersion7(), null, "车道 Lane", 0);
            db.Categories.Add(created);
            await db.SaveChangesAsync();
            return created.Id;
        });
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var product = (await merchandiser.Client.CreateProductAsync(new
        {
            name = "低优先级 Lantern", description = "", categoryId = category, brand = "Lane",
            skus = new[] { new { code = $"S-{Guid.NewGuid():N}", price = 1_000L, stock = 1 } },
        })).GetProperty("id").GetString();
        var lanedBefore = Volatile.Read(ref laned);

        // Indexing runs behind the write: search (on the lane) until the product is found. The
        // bound is generous: what is tested is where the search runs, not how soon the index
        // catches up (10 s was once not enough for a loaded 2-core box running the suites in parallel).
        var watch = System.Diagnostics.Stopwatch.StartNew();
        System.Text.Json.JsonElement search;
        while ((search = await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/search?q=lantern&categoryId={category}")).GetProperty("total").GetInt32() == 0)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the search on the lane never found the product");
            await Task.Delay(20);
        }
        Assert.Equal(product, search.GetProperty("items")[0].GetProperty("id").GetString());
        var searches = Volatile.Read(ref laned) - lanedBefore;
        Assert.True(searches >= 1, "no search ran on the lane");
        await (await client.GetAsync($"/api/products/{product}")).EnsureStatusAsync(HttpStatusCode.OK); // core: product detail
        await (await client.GetAsync("/api/flash-sales")).EnsureStatusAsync(HttpStatusCode.OK); // core
        var products = await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/products?categoryId={category}"); // non-core browse
        Assert.Equal(1, products.GetProperty("items").GetArrayLength());
        Assert.Equal(lanedBefore + searches + 1, Volatile.Read(ref laned));

        await (await client.GetAsync("/api/flash-sales")).EnsureStatusAsync(HttpStatusCode.OK); // core
        await (await client.PostAsync("/simulator/v1/payments", JsonContent.Create(new { }))).EnsureStatusAsync(HttpStatusCode.Unauthorized); // a non-core write (no merchant key)
        Assert.Equal(lanedBefore + searches + 1, Volatile.Read(ref laned));
    }
}
