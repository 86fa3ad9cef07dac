using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Scheduling;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Quartz;

namespace FlashMall.Scheduling;

/// <summary>
/// The scheduler: Quartz.NET (in-memory store) fires the declared jobs on <c>all</c> and
/// <c>worker</c> nodes; each firing is claimed in <c>scheduling.job_runs</c> so it runs once
/// however many nodes fire it, and the runs are what operators see.
/// </summary>
public static class SchedulingRegistration
{
    public static IHostApplicationBuilder AddScheduling(this IHostApplicationBuilder builder)
    {
        builder.AddModuleDbContext<SchedulingDbContext, SchedulingSqliteDbContext, SchedulingPostgresDbContext>(SchedulingDbContext.Schema);
        builder.Services.AddSingleton<JobRunner>();
        builder.Services.AddScheduledJob<PurgeJobRunsJob>(PurgeJobRunsJob.Name,
            "Deletes job run records older than 14 days.", JobSchedule.AtCron("0 17 3 * * ?"));

        if (NodeRoles.RunsBackgroundWork(builder.Configuration))
        {
            builder.Services.AddQuartz();
            builder.Services.AddQuartzHostedService(options => options.WaitForJobsToComplete = true);
            builder.Services.AddHostedService<JobScheduleInstaller>();
        }
        return builder;
    }

    public static IEndpointRouteBuilder MapScheduling(this IEndpointRouteBuilder routes)
    {
        routes.MapJobEndpoints();
        return routes;
    }
}

internal sealed class PurgeJobRunsJob(SchedulingDbContext db, TimeProvider clock) : IScheduledJob
{
    public const string Name = "scheduling.purge-job-runs";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow().AddDays(-14);
        await db.Runs.Where(r => r.StartedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
    }
}
