using System.Net;

using FlashMall.ApiTests.Infrastructure;

namespace FlashMall.ApiTests;

public sealed class HostTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    [Fact]
    public async Task Live_and_ready_answer_200_when_the_stores_answer()
    {
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task OpenApi_document_describes_the_public_routes()
    {
        using var client = factory.CreateClient();
        var document = await (await client.GetAsync("/openapi/v1.json")).JsonAsync();
        var paths = document.GetProperty("paths");
        foreach (var route in new[] { "/api/accounts/login", "/api/accounts/register", "/api/products", "/api/products/{id}", "/api/categories", "/api/admin/products" })
        {
            Assert.True(paths.TryGetProperty(route, out _), $"missing {route}");
        }
    }

    [Fact]
    public async Task Unknown_route_is_a_404_problem_with_code_and_trace_id()
    {
        using var client = factory.CreateClient();
        await (await client.GetAsync("/api/no-such-thing")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Wrong_method_is_a_405_problem()
    {
        using var client = factory.CreateClient();
        await (await client.DeleteAsync("/api/categories")).ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }

    [Fact]
    public void Runs_on_the_provider_the_test_run_asks_for()
    {
        var provider = factory.WithScope(services =>
            ((Microsoft.EntityFrameworkCore.DbContext)services.GetService(typeof(FlashMall.Catalog.Persistence.CatalogDbContext))!).Database.ProviderName);
        Assert.Equal(TestEnvironment.UsesPostgres ? "Npgsql.EntityFrameworkCore.PostgreSQL" : "Microsoft.EntityFrameworkCore.Sqlite", provider);
    }

    [Fact]
    public async Task Trace_id_in_a_problem_matches_the_request_trace()
    {
        using var client = factory.CreateClient();
        var problem = await (await client.GetAsync("/api/no-such-thing")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString()!);
    }

    [Fact]
    public async Task Without_a_collector_no_span_is_made_and_a_callers_trace_id_still_reaches_the_problem()
    {
        // The default configuration has no OTLP endpoint: spans would have nowhere to go.
        Assert.Null(factory.Services.GetService(typeof(OpenTelemetry.Trace.TracerProvider)));

        var trace = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/no-such-thing");
        request.Headers.Add("traceparent", $"00-{trace}-{System.Diagnostics.ActivitySpanId.CreateRandom().ToHexString()}-01");
        var problem = await (await client.SendAsync(request)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Equal(trace, problem.GetProperty("traceId").GetString());
    }
}
