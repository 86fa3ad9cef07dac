using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Catalog.Persistence;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Scheduling;
using FlashMall.Scheduling;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

public sealed class SchedulingTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    [Fact]
    public async Task Operators_see_every_declared_job_with_schedule_and_next_run()
    {
        var operatorUser = await factory.NewUserAsync("operator");
        var jobs = await (await operatorUser.Client.GetAsync("/api/admin/jobs")).JsonAsync();
        var purge = jobs.EnumerateArray().Single(j => j.GetProperty("name").GetString() == "kernel.purge-idempotency-records");
        Assert.Equal("every 01:00:00", purge.GetProperty("schedule").GetString());
        Assert.True(purge.GetProperty("nextRun").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.False(string.IsNullOrEmpty(purge.GetProperty("description").GetString()));
        Assert.Contains(jobs.EnumerateArray(), j => j.GetProperty("name").GetString() == "scheduling.purge-job-runs");
    }

    [Fact]
    public async Task Buyers_cannot_see_or_run_jobs()
    {
        var buyer = await factory.NewUserAsync();
        await (await buyer.Client.GetAsync("/api/admin/jobs")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await buyer.Client.PostAsync("/api/admin/jobs/kernel.purge-idempotency-records/run", null)).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        using var anonymous = factory.CreateClient();
        await (await anonymous.GetAsync("/api/admin/jobs")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Purge_job_deletes_idempotency_records_past_retention_and_keeps_fresh_ones()
    {
        var merchandiser = await factory.NewUserAsync("merchandiser");
        var operatorUser = await factory.NewUserAsync("operator");
        var category = await factory.CategoryAsync();
        var (oldKey, freshKey) = ($"old-{Guid.NewGuid():N}", $"fresh-{Guid.NewGuid():N}");
        foreach (var key in new[] { oldKey, freshKey })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/admin/products") { Content = JsonContent.Create(CatalogHelpers.ProductBody(category)) };
            request.Headers.Add("Idempotency-Key", key);
            await (await merchandiser.Client.SendAsync(request)).EnsureStatusAsync(HttpStatusCode.Created);
        }
        var threeDaysAgo = DateTimeOffset.UtcNow.AddDays(-3);
        await factory.WithScopeAsync(services => services.GetRequiredService<CatalogDbContext>().Set<IdempotencyRecord>()
            .Where(r => r.Key == oldKey).ExecuteUpdateAsync(s => s.SetProperty(r => r.CreatedAt, threeDaysAgo)));

        var run = await (await operatorUser.Client.PostAsync("/api/admin/jobs/kernel.purge-idempotency-records/run", null)).JsonAsync();

        Assert.True(run.GetProperty("outcome").GetString() == "succeeded", run.GetRawText());
        Assert.True(run.GetProperty("manual").GetBoolean());
        var keys = await factory.WithScopeAsync(services => services.GetRequiredService<CatalogDbContext>().Set<IdempotencyRecord>()
            .Where(r => r.Key == oldKey || r.Key == freshKey).Select(r => r.Key).ToListAsync());
        Assert.Equal([freshKey], keys);

        var jobs = await (await operatorUser.Client.GetAsync("/api/admin/jobs")).JsonAsync();
        var last = jobs.EnumerateArray().Single(j => j.GetProperty("name").GetString() == "kernel.purge-idempotency-records").GetProperty("lastRun");
        Assert.Equal("succeeded", last.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Unknown_job_is_404()
    {
        var operatorUser = await factory.NewUserAsync("operator");
        await (await operatorUser.Client.PostAsync("/api/admin/jobs/no.such-job/run", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
    }
}

/// <summary>Two scheduler nodes on one store: every firing of a job runs once, not once per node.</summary>
public sealed class ClusteredSchedulingTests
{
    [Fact]
    public async Task Two_nodes_run_each_firing_of_a_job_once()
    {
        var jobName = $"test.counting-{Guid.NewGuid():N}";
        await using var first = new FlashMallFactory { ConfigureTestServices = services => CountingJob.Declare(services, jobName) };
        await ((IAsyncLifetime)first).InitializeAsync();
        try
        {
            await using var second = new SecondNodeFactory(first) { ConfigureTestServices = services => CountingJob.Declare(services, jobName) };
            await ((IAsyncLifetime)second).InitializeAsync();
            first.CreateClient().Dispose();
            second.CreateClient().Dispose();

            await Task.Delay(TimeSpan.FromSeconds(4.5));
            // Stop both schedulers, letting running firings finish, so claims and runs are final.
            foreach (var node in new FlashMallFactory[] { first, second })
            {
                var scheduler = await node.Services.GetRequiredService<Quartz.ISchedulerFactory>().GetScheduler();
                await scheduler.Shutdown(waitForJobsToComplete: true);
            }

            var executions = CountingJob.Executions(jobName);
            var firings = await first.WithScopeAsync(services => services.GetRequiredService<SchedulingDbContext>().Runs
                .Where(r => r.JobName == jobName).Select(r => r.ScheduledAt).Distinct().CountAsync());
            Assert.True(firings >= 2, $"only {firings} firings in 4.5 s");
            // Both nodes fire every trigger; only the node that claims a firing runs it.
            Assert.Equal(firings, executions);
        }
        finally
        {
            await ((IAsyncLifetime)first).DisposeAsync();
        }
    }

    [Fact]
    public async Task A_core_node_runs_no_jobs()
    {
        var jobName = $"test.counting-{Guid.NewGuid():N}";
        await using var core = new FlashMallFactory { ConfigureTestServices = services => CountingJob.Declare(services, jobName) };
        await ((IAsyncLifetime)core).InitializeAsync();
        core.Settings["role"] = "core";
        try
        {
            core.CreateClient().Dispose();
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            Assert.Equal(0, CountingJob.Executions(jobName));
        }
        finally
        {
            await ((IAsyncLifetime)core).DisposeAsync();
        }
    }
}

internal sealed class CountingJob(ScheduledJobName name) : IScheduledJob
{
    private static readonly ConcurrentDictionary<string, ConcurrentBag<DateTimeOffset>> Runs = new();

    public static void Declare(IServiceCollection services, string jobName)
    {
        services.AddSingleton(new ScheduledJobName(jobName));
        services.AddScheduledJob<CountingJob>(jobName, "Counts its runs (test).", JobSchedule.Every(TimeSpan.FromSeconds(1)));
    }

    public static int Executions(string jobName) => Runs.TryGetValue(jobName, out var runs) ? runs.Count : 0;

    public Task RunAsync(CancellationToken cancellationToken)
    {
        Runs.GetOrAdd(name.Value, _ => []).Add(DateTimeOffset.UtcNow);
        return Task.CompletedTask;
    }
}

internal sealed record ScheduledJobName(string Value);
