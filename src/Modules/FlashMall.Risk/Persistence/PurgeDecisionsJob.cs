using FlashMall.Kernel.Scheduling;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace FlashMall.Risk.Persistence;

/// <summary>Deletes decisions older than <c>Risk:DecisionRetention</c>, so a long flood of refusals does not stay forever.</summary>
internal sealed class PurgeDecisionsJob(RiskDbContext db, IOptions<RiskOptions> options, TimeProvider clock) : IScheduledJob
{
    public const string Name = "risk.purge-decisions";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow() - options.Value.DecisionRetention;
        await db.Decisions.Where(d => d.At < cutoff).ExecuteDeleteAsync(cancellationToken);
    }
}
