using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using FlashMall.Kernel.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Scheduling;

internal sealed record JobRunView(DateTimeOffset ScheduledAt, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string Outcome, string? Error, string Node, bool Manual);
internal sealed record JobView(string Name, string Description, string Schedule, DateTimeOffset? NextRun, JobRunView? LastRun);

/// <summary>Operators see every declared job with its schedule, last run and outcome, and can run one now.</summary>
internal static class JobEndpoints
{
    public static void MapJobEndpoints(this IEndpointRouteBuilder routes)
    {
        var jobs = routes.MapGroup("/api/admin/jobs").WithTags("Jobs").NonCore().RequireAuthorization(Policies.Operator);
        jobs.MapGet("", List);
        jobs.MapPost("/{name}/run", RunNow);
    }

    private static async Task<Ok<JobView[]>> List(IEnumerable<ScheduledJobDefinition> jobs, SchedulingDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var names = jobs.Select(j => j.Name).ToList();
        var runs = await db.Runs.AsNoTracking().Where(r => names.Contains(r.JobName)).ToListAsync(cancellationToken);
        var last = runs.GroupBy(r => r.JobName).ToDictionary(g => g.Key, g => g.MaxBy(r => r.StartedAt)!);
        var now = clock.GetUtcNow();
        return TypedResults.Ok(jobs.OrderBy(j => j.Name, StringComparer.Ordinal)
            .Select(j => new JobView(j.Name, j.Description, j.Schedule.ToString(), JobSchedules.Next(j.Schedule, now),
                last.TryGetValue(j.Name, out var run) ? ToView(run) : null))
            .ToArray());
    }

    /// <summary>Runs the job now on this node, outside its schedule, and answers with the recorded run.</summary>
    private static async Task<Results<Ok<JobRunView>, ProblemHttpResult>> RunNow(
        string name, IEnumerable<ScheduledJobDefinition> jobs, JobRunner runner, TimeProvider clock, CancellationToken cancellationToken)
    {
        var job = jobs.SingleOrDefault(j => j.Name == name);
        if (job is null)
        {
            return Problems.NotFound("job");
        }
        var run = await runner.RunAsync(job, clock.GetUtcNow(), manual: true, cancellationToken);
        return run is null
            ? Problems.Conflict("job_already_running", "This job was started at this very moment by another request.")
            : TypedResults.Ok(ToView(run));
    }

    private static JobRunView ToView(JobRun run) =>
        new(run.ScheduledAt, run.StartedAt, run.FinishedAt, run.Outcome.ToString().ToLowerInvariant(), run.Error, run.Node, run.Manual);
}
