using System.Diagnostics;
using FlashMall.Kernel.Scheduling;
using Microsoft.Extensions.Hosting;
using Quartz;

namespace FlashMall.Scheduling;

/// <summary>The one Quartz job type: it hands each firing of a declared job to <see cref="JobRunner"/>.</summary>
[DisallowConcurrentExecution]
internal sealed class DeclaredJob(JobRunner runner, IEnumerable<ScheduledJobDefinition> jobs) : IJob
{
    public const string JobNameKey = "flashmall.job";

    /// <summary>One span per firing (a trace of its own: what the job reads and writes hangs under it).</summary>
    public static readonly ActivitySource Source = new("FlashMall.Scheduling");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var name = context.MergedJobDataMap.GetString(JobNameKey);
        var job = jobs.Single(j => j.Name == name);
        using var span = Source.StartActivity("job " + job.Name, ActivityKind.Consumer);
        span?.SetTag("flashmall.job", job.Name);
        await runner.RunAsync(job, context.ScheduledFireTimeUtc ?? context.FireTimeUtc, manual: false, cancellationToken);
    }
}

/// <summary>Puts every declared job on the Quartz scheduler with its trigger when the node starts.</summary>
internal sealed class JobScheduleInstaller(ISchedulerFactory schedulers, IEnumerable<ScheduledJobDefinition> jobs, TimeProvider clock) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        foreach (var job in jobs)
        {
            var detail = JobBuilder.Create<DeclaredJob>()
                .WithIdentity(job.Name)
                .WithDescription(job.Description)
                .UsingJobData(DeclaredJob.JobNameKey, job.Name)
                .Build();
            await scheduler.ScheduleJob(detail, Trigger(job, clock.GetUtcNow()), new ScheduleJobOptions(), cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Interval triggers start on a whole multiple of the interval since the Unix epoch, so every
    /// node computes the same firing times (and so the same claims). Missed firings are skipped.
    /// </summary>
    private static ITrigger Trigger(ScheduledJobDefinition job, DateTimeOffset now)
    {
        var trigger = TriggerBuilder.Create().WithIdentity(job.Name).ForJob(job.Name);
        if (job.Schedule.Interval is { } interval)
        {
            return trigger
                .StartAt(JobSchedules.NextAligned(interval, now))
                .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
                .Build();
        }
        return trigger
            .WithCronSchedule(job.Schedule.Cron!, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing))
            .Build();
    }
}

internal static class JobSchedules
{
    public static DateTimeOffset NextAligned(TimeSpan interval, DateTimeOffset after)
    {
        var ticks = after.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var next = (ticks / interval.Ticks + 1) * interval.Ticks;
        return DateTimeOffset.UnixEpoch.AddTicks(next);
    }

    public static DateTimeOffset? Next(JobSchedule schedule, DateTimeOffset after) => schedule.Interval is { } interval
        ? NextAligned(interval, after)
        : new CronExpression(schedule.Cron!, TimeZoneInfo.Utc).GetNextValidTimeAfter(after);
}
