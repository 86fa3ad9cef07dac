namespace FlashMall.Scheduling;

internal enum JobOutcome
{
    Running,
    Succeeded,
    Failed,
}

/// <summary>
/// One firing of a job. The primary key (job, scheduled time) is the claim: the first node to
/// insert it runs the firing, every other node skips it.
/// </summary>
internal sealed class JobRun
{
    private JobRun()
    {
    }

    public string JobName { get; private set; } = "";
    public DateTimeOffset ScheduledAt { get; private set; }
    public string Node { get; private set; } = "";
    public bool Manual { get; private set; }
    public DateTimeOffset StartedAt { get; private set; }
    public DateTimeOffset? FinishedAt { get; private set; }
    public JobOutcome Outcome { get; private set; }
    public string? Error { get; private set; }

    public const int MaxErrorLength = 2000;

    public static JobRun Claim(string jobName, DateTimeOffset scheduledAt, string node, bool manual, DateTimeOffset now) => new()
    {
        JobName = jobName,
        ScheduledAt = scheduledAt,
        Node = node,
        Manual = manual,
        StartedAt = now,
        Outcome = JobOutcome.Running,
    };

    public void Succeed(DateTimeOffset now)
    {
        FinishedAt = now;
        Outcome = JobOutcome.Succeeded;
    }

    public void Fail(DateTimeOffset now, Exception exception)
    {
        FinishedAt = now;
        Outcome = JobOutcome.Failed;
        var message = $"{exception.GetType().Name}: {exception.Message}";
        Error = message.Length > MaxErrorLength ? message[..MaxErrorLength] : message;
    }
}
