using FlashMall.Archive.Persistence;
using FlashMall.Kernel.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Archive.Export;

/// <summary>
/// <c>archive.daily</c> (00:10 UTC): writes yesterday, and any earlier day that has staged rows not yet
/// in a file (events delivered late), then deletes staged rows older than the retention that are in files.
/// </summary>
internal sealed class ArchiveDailyJob(ArchiveExporter exporter, ArchiveDbContext db, TimeProvider clock) : IScheduledJob
{
    public const string Name = "archive.daily";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var today = ArchiveDays.Today(clock);
        var todayNumber = ArchiveDays.Number(today);
        var late = await db.StagedEvents.Where(e => e.ExportedAt == null && e.Day < todayNumber)
            .Select(e => e.Day).Distinct().ToListAsync(cancellationToken);
        foreach (var day in late.Select(ArchiveDays.FromNumber).Append(today.AddDays(-1)).Distinct().Order())
        {
            await exporter.ExportAsync(day, cancellationToken);
        }
        await exporter.PurgeAsync(cancellationToken);
    }
}
