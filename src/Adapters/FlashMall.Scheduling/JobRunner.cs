using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Scheduling;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlashMall.Scheduling;

/// <summary>Claims one firing of a job in the store and, if this node won the claim, runs it and records the outcome.</summary>
internal sealed partial class JobRunner(IServiceScopeFactory scopes, TimeProvider clock, ILogger<JobRunner> logger)
{
    public static readonly string NodeName = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>
    /// The recorded run, or null when another node already claimed this firing. The run has a thread
    /// of its own (<see cref="DedicatedThread.RunAsync{T}"/>): a job's SQLite work is synchronous —
    /// the reconciliation sums a sale's million reservations in a few hundred milliseconds — and on a
    /// thread-pool thread it held back the purchases queued behind it (their p99 rose at every
    /// :00 and :30, when the 30-second jobs fire).
    /// </summary>
    public Task<JobRun?> RunAsync(ScheduledJobDefinition job, DateTimeOffset scheduledAt, bool manual, CancellationToken cancellationToken) =>
        DedicatedThread.RunAsync($"Job {job.Name}", () => RunHereAsync(job, scheduledAt, manual, cancellationToken));

    private async Task<JobRun?> RunHereAsync(ScheduledJobDefinition job, DateTimeOffset scheduledAt, bool manual, CancellationToken cancellationToken)
    {
        using var origin = QueryOrigin.Begin($"job {job.Name}"); // slow queries name the job
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SchedulingDbContext>();
        var run = JobRun.Claim(job.Name, scheduledAt, NodeName, manual, clock.GetUtcNow());
        db.Runs.Add(run);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            LogSkipped(logger, job.Name, scheduledAt);
            return null;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await using var jobScope = scopes.CreateAsyncScope();
            await ((IScheduledJob)jobScope.ServiceProvider.GetRequiredService(job.JobType)).RunAsync(cancellationToken);
            run.Succeed(clock.GetUtcNow());
            LogSucceeded(logger, job.Name, scheduledAt, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            run.Fail(clock.GetUtcNow(), ex);
            LogFailed(logger, ex, job.Name, scheduledAt);
        }
        await db.SaveChangesAsync(CancellationToken.None);
        return run;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {Job} firing {ScheduledAt:O} already claimed by another node")]
    private static partial void LogSkipped(ILogger logger, string job, DateTimeOffset scheduledAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} firing {ScheduledAt:O} succeeded in {ElapsedMs:F0} ms")]
    private static partial void LogSucceeded(ILogger logger, string job, DateTimeOffset scheduledAt, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Job} firing {ScheduledAt:O} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string job, DateTimeOffset scheduledAt);
}
