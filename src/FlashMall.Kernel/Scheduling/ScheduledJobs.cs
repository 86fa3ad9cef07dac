using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.Kernel.Scheduling;

/// <summary>
/// A timed or looping job. It runs once per scheduled firing across all scheduler nodes (the
/// scheduler claims each firing in the store before running it), in its own DI scope.
/// </summary>
public interface IScheduledJob
{
    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>When a job fires: every <c>Interval</c> (aligned to whole multiples since the Unix epoch, so every node agrees), or on a cron expression (UTC).</summary>
public sealed record JobSchedule(TimeSpan? Interval, string? Cron)
{
    public static JobSchedule Every(TimeSpan interval) =>
        interval >= TimeSpan.FromSeconds(1) ? new(interval, null) : throw new ArgumentOutOfRangeException(nameof(interval), "At least one second.");

    /// <summary>A Quartz cron expression with seconds, e.g. <c>0 0 3 * * ?</c> (03:00 UTC daily).</summary>
    public static JobSchedule AtCron(string cron) => new(null, cron);

    public override string ToString() => Interval is { } every ? $"every {every}" : $"cron {Cron} (UTC)";
}

/// <summary>One job as declared: a stable name (operators see it), what it does, and when.</summary>
public sealed record ScheduledJobDefinition(string Name, string Description, JobSchedule Schedule, Type JobType);

public static class ScheduledJobRegistration
{
    /// <summary>Declares a job with its schedule; the scheduler adapter runs it on <c>all</c> and <c>worker</c> nodes.</summary>
    public static IServiceCollection AddScheduledJob<TJob>(this IServiceCollection services, string name, string description, JobSchedule schedule)
        where TJob : class, IScheduledJob
    {
        services.AddScoped<TJob>();
        services.AddSingleton(new ScheduledJobDefinition(name, description, schedule, typeof(TJob)));
        return services;
    }
}
