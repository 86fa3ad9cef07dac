using System.Text.Json;
using FlashMall.Archive.Persistence;
using FlashMall.Archive.Staging;
using FlashMall.Archive.Storage;
using FlashMall.Contracts.Catalog;
using FlashMall.Contracts.FlashSales;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Archive.Export;

/// <summary>What one dataset got for a day: rows and files written, stale files removed.</summary>
internal sealed record DatasetExport(string Dataset, long Rows, IReadOnlyList<string> Files, int Removed);

/// <summary>A day's export: every dataset's files.</summary>
internal sealed record DayExport(string Day, IReadOnlyList<DatasetExport> Datasets);

/// <summary>
/// Writes one UTC day of business events as Parquet: <c>archive/&lt;dataset&gt;/dt=YYYY-MM-DD/part-&lt;n&gt;.parquet</c>.
/// The staged datasets come from the staging table, in staging order, <see cref="ArchiveOptions.RowsPerFile"/>
/// rows a file; reservations are read from the FlashSales module as they are now. A re-run of a day
/// writes the same files from the same rows and removes any other <c>part-*</c> of that partition, so
/// nothing is ever counted twice. Staged rows are only marked exported once their file is durable
/// (and deleted <see cref="ArchiveOptions.StagingRetention"/> later by <c>archive.daily</c>); rows
/// that arrive for a day whose staged rows were already deleted go to extra files beside the old ones.
/// </summary>
internal sealed partial class ArchiveExporter(
    ArchiveDbContext db,
    IArchiveStore store,
    ICatalogProducts catalog,
    IFlashSaleReservationLog reservations,
    SearchQueryLog searches,
    IOptions<ArchiveOptions> options,
    IOptions<DataOptions> data,
    TimeProvider clock,
    ILogger<ArchiveExporter> logger)
{
    /// <summary>One export at a time on this node: two runs of one day must not interleave their files.</summary>
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    private readonly int _rowsPerFile = options.Value.RowsPerFile;

    public async Task<DayExport> ExportAsync(DateOnly day, CancellationToken cancellationToken)
    {
        await OneAtATime.WaitAsync(cancellationToken);
        try
        {
            await searches.FlushAsync(cancellationToken);
            var number = ArchiveDays.Number(day);
            var record = await db.Days.SingleOrDefaultAsync(d => d.Day == number, cancellationToken);
            var purged = record?.PurgedAt is not null;
            var scratch = Path.Combine(data.Value.FullPath, "archive-tmp");
            Directory.CreateDirectory(scratch);
            foreach (var orphan in new DirectoryInfo(scratch).EnumerateFiles("*.parquet").Where(f => f.LastWriteTimeUtc < DateTime.UtcNow.AddHours(-1)))
            {
                orphan.Delete(); // left by a process that died mid-write
            }
            var results = new List<DatasetExport>();
            foreach (var dataset in Datasets.All)
            {
                var result = dataset == Datasets.Reservations
                    ? await ExportReservationsAsync(day, scratch, cancellationToken)
                    : await ExportStagedAsync(dataset, day, purged, scratch, cancellationToken);
                results.Add(result);
            }
            if (record is null)
            {
                record = ArchivedDay.Create(number);
                db.Days.Add(record);
            }
            record.ExportedAt = clock.GetUtcNow();
            record.Rows = results.Sum(r => r.Rows);
            record.Files = results.Sum(r => r.Files.Count);
            await db.SaveChangesAsync(cancellationToken);
            LogExported(logger, ArchiveDays.Text(day), record.Rows, record.Files);
            return new DayExport(ArchiveDays.Text(day), results);
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    private async Task<DatasetExport> ExportStagedAsync(string dataset, DateOnly day, bool purged, string scratch, CancellationToken cancellationToken)
    {
        var number = ArchiveDays.Number(day);
        var partition = ArchiveDays.Partition(dataset, day);
        var existing = await store.ListAsync(partition, cancellationToken);
        var runStamp = clock.GetUtcNow().ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
        var written = new List<string>();
        long rows = 0;
        long after = 0;
        var first = long.MaxValue;
        while (true)
        {
            var query = db.StagedEvents.AsNoTracking().Where(e => e.Day == number && e.Dataset == dataset && e.Sequence > after);
            if (purged)
            {
                query = query.Where(e => e.ExportedAt == null);
            }
            var page = await query.OrderBy(e => e.Sequence).Take(_rowsPerFile).ToListAsync(cancellationToken);
            if (page.Count == 0)
            {
                break;
            }
            first = Math.Min(first, page[0].Sequence);
            after = page[^1].Sequence;
            var name = purged ? $"part-{runStamp}-{written.Count}.parquet" : $"part-{written.Count}.parquet";
            var temporary = Path.Combine(scratch, $"{Guid.NewGuid():N}.parquet");
            try
            {
                rows += await WriteStagedAsync(dataset, page, temporary, cancellationToken);
                await store.PutAsync(partition + name, temporary, cancellationToken);
            }
            finally
            {
                File.Delete(temporary); // gone already when stored; left by a failure otherwise
            }
            written.Add(partition + name);
        }
        var removed = 0;
        if (!purged)
        {
            // A re-run: every part of the day was just rewritten from all its rows; any other is stale.
            foreach (var stale in existing.Where(f => !written.Contains(f.Key)))
            {
                await store.DeleteAsync(stale.Key, cancellationToken);
                removed++;
            }
        }
        if (written.Count > 0)
        {
            // Only now, the files being durable, do the rows count as archived (deleted after the retention).
            var now = clock.GetUtcNow();
            using var turn = await SqliteWriteGate.EnterAsync(db, cancellationToken);
            await db.StagedEvents
                .Where(e => e.Day == number && e.Dataset == dataset && e.Sequence >= first && e.Sequence <= after && e.ExportedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.ExportedAt, now), cancellationToken);
        }
        return new DatasetExport(dataset, rows, written, removed);
    }

    private async Task<long> WriteStagedAsync(string dataset, IReadOnlyList<StagedEvent> page, string path, CancellationToken cancellationToken)
    {
        switch (dataset)
        {
            case Datasets.Orders:
                var orders = page.Select(e => (e, Order: JsonSerializer.Deserialize<StagedOrder>(e.Payload)!)).ToList();
                var categories = await catalog.CategoriesAsync(
                    [.. orders.SelectMany(o => o.Order.Lines ?? []).Select(l => l.ProductId).Distinct()], cancellationToken);
                var lines = orders.SelectMany(o => Lines(o.e, o.Order, categories)).ToList();
                await ParquetTable.WriteAsync(DatasetSchemas.Orders, lines, path, cancellationToken);
                return lines.Count;
            case Datasets.Payments:
                var payments = page.Select(e => (e, P: JsonSerializer.Deserialize<StagedPayment>(e.Payload)!))
                    .Select(x => new PaymentRow(x.P.Event, x.e.EventKey, x.P.PaymentId, x.P.OrderId, x.P.UserId, x.P.FlashSaleId, x.P.Amount, x.e.OccurredAt))
                    .ToList();
                await ParquetTable.WriteAsync(DatasetSchemas.Payments, payments, path, cancellationToken);
                return payments.Count;
            case Datasets.Coupons:
                var coupons = page.Select(e => (e, C: JsonSerializer.Deserialize<StagedCoupon>(e.Payload)!))
                    .Select(x => new CouponRow(x.C.Event, x.e.EventKey, x.C.CouponId, x.C.TemplateId, x.C.UserId, x.C.OrderId, x.C.Discount, x.e.OccurredAt))
                    .ToList();
                await ParquetTable.WriteAsync(DatasetSchemas.Coupons, coupons, path, cancellationToken);
                return coupons.Count;
            case Datasets.Searches:
                var queries = page.Select(e => (e, S: JsonSerializer.Deserialize<StagedSearch>(e.Payload)!))
                    .Select(x => new SearchRow(x.S.QueryId, x.S.Text, x.S.CategoryId, x.S.Brand, x.S.Sort, x.S.Page, x.S.Results, x.S.Degraded, x.S.UserId, x.e.OccurredAt))
                    .ToList();
                await ParquetTable.WriteAsync(DatasetSchemas.Searches, queries, path, cancellationToken);
                return queries.Count;
            default:
                throw new ArgumentOutOfRangeException(nameof(dataset), dataset, "Not a staged dataset.");
        }
    }

    private static IEnumerable<OrderLineRow> Lines(StagedEvent staged, StagedOrder order, IReadOnlyDictionary<Guid, ProductCategory> categories)
    {
        if (order.Lines is not { Count: > 0 } lines)
        {
            yield return new OrderLineRow(order.Event, staged.EventKey, order.OrderId, order.UserId, order.FlashSaleId, order.ReservationId, order.PaymentId,
                0, null, null, null, null, null, null, order.Total, order.Reason, staged.OccurredAt);
            yield break;
        }
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            yield return new OrderLineRow(order.Event, staged.EventKey, order.OrderId, order.UserId, order.FlashSaleId, order.ReservationId, order.PaymentId,
                i, line.SkuId, line.ProductId, categories.GetValueOrDefault(line.ProductId), line.Quantity, line.UnitPrice, line.UnitPrice * line.Quantity,
                order.Total, order.Reason, staged.OccurredAt);
        }
    }

    private async Task<DatasetExport> ExportReservationsAsync(DateOnly day, string scratch, CancellationToken cancellationToken)
    {
        var partition = ArchiveDays.Partition(Datasets.Reservations, day);
        var existing = await store.ListAsync(partition, cancellationToken);
        var from = ArchiveDays.Start(day);
        var to = from.AddDays(1);
        var written = new List<string>();
        long rows = 0;
        while (true)
        {
            var page = await reservations.ReservedBetweenAsync(from, to, (int)rows, _rowsPerFile, cancellationToken);
            if (page.Count == 0)
            {
                break;
            }
            var categories = await catalog.CategoriesAsync([.. page.Select(r => r.ProductId).Distinct()], cancellationToken);
            var name = $"{partition}part-{written.Count}.parquet";
            var temporary = Path.Combine(scratch, $"{Guid.NewGuid():N}.parquet");
            try
            {
                await ParquetTable.WriteAsync(DatasetSchemas.Reservations,
                    [.. page.Select(r => new ReservationRow(r, categories.GetValueOrDefault(r.ProductId)))], temporary, cancellationToken);
                await store.PutAsync(name, temporary, cancellationToken);
            }
            finally
            {
                File.Delete(temporary);
            }
            written.Add(name);
            rows += page.Count;
            if (page.Count < _rowsPerFile)
            {
                break;
            }
        }
        var removed = 0;
        foreach (var stale in existing.Where(f => !written.Contains(f.Key)))
        {
            await store.DeleteAsync(stale.Key, cancellationToken);
            removed++;
        }
        return new DatasetExport(Datasets.Reservations, rows, written, removed);
    }

    /// <summary>Deletes staged rows already in durable files whose day is older than the retention; marks those days purged.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        var cutoff = ArchiveDays.Number(ArchiveDays.Today(clock).AddDays(-(int)Math.Ceiling(options.Value.StagingRetention.TotalDays)));
        var now = clock.GetUtcNow();
        using var turn = await SqliteWriteGate.EnterAsync(db, cancellationToken);
        var deleted = await db.StagedEvents.Where(e => e.Day < cutoff && e.ExportedAt != null).ExecuteDeleteAsync(cancellationToken);
        await db.Days.Where(d => d.Day < cutoff && d.PurgedAt == null).ExecuteUpdateAsync(s => s.SetProperty(d => d.PurgedAt, now), cancellationToken);
        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Archived {Day}: {Rows} rows in {Files} Parquet files")]
    private static partial void LogExported(ILogger logger, string day, long rows, int files);
}
