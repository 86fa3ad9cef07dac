using System.Text.Json;
using System.Threading.Channels;
using FlashMall.Archive.Persistence;
using FlashMall.Contracts.Search;
using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Archive.Staging;

/// <summary>
/// Search queries for the archive: <see cref="Record"/> puts the query on a bounded in-memory queue
/// and returns at once (a full queue drops it and counts it); the writer moves the queue to the
/// staging table in batches. Queries still queued when the process dies are lost — a few rows of
/// a statistical dataset, the price of keeping search free of a database write.
/// </summary>
internal sealed partial class SearchQueryLog(
    IServiceScopeFactory scopes, IOptions<ArchiveOptions> options, TimeProvider clock, ILogger<SearchQueryLog> logger)
    : BackgroundService, ISearchQueryLog
{
    public const int BatchSize = 500;
    private static readonly TimeSpan BatchWindow = TimeSpan.FromSeconds(1);

    private readonly Channel<StagedEvent> _queue = Channel.CreateBounded<StagedEvent>(
        new BoundedChannelOptions(options.Value.SearchQueueCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = false });
    private readonly SemaphoreSlim _writing = new(1, 1);
    private long _dropped;

    public bool Record(SearchQueryRecord query)
    {
        var now = clock.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var row = new StagedSearch(id, query.Text, query.CategoryId, query.Brand, query.Sort, query.Page, query.Results, query.Degraded, query.UserId);
        if (_queue.Writer.TryWrite(StagedEvent.Create(id, Datasets.Searches, now, JsonSerializer.Serialize(row), now)))
        {
            return true;
        }
        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <summary>Writes what is queued now (the archive run calls it first, so a day's last queries are in).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (await WriteBatchAsync(cancellationToken) == BatchSize)
        {
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                try
                {
                    // Let a batch gather: one insert per second at most under load.
                    await Task.Delay(BatchWindow, clock, stoppingToken);
                    await FlushAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogWriteFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Stopping: what is queued is written, not lost.
        try
        {
            await FlushAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogWriteFailed(logger, ex);
        }
    }

    private async Task<int> WriteBatchAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            var batch = new List<StagedEvent>(BatchSize);
            while (batch.Count < BatchSize && _queue.Reader.TryRead(out var row))
            {
                batch.Add(row);
            }
            if (batch.Count == 0)
            {
                return 0;
            }
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ArchiveDbContext>();
            try
            {
                // Without change tracking: under a search flood this runs for thousands of rows a second on
                // the cores that also serve the core, and SaveChanges took several times the CPU (and the
                // SQLite writer for as long) in bursts once a second (docs/BENCHMARKS.md, "Load shedding", run 13).
                using var turn = await SqliteWriteGate.EnterAsync(db, cancellationToken);
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                await BulkInsert.InsertAsync(db, batch, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The batch is lost, not retried forever: the archive of searches is best effort.
                LogBatchLost(logger, ex, batch.Count);
            }
            if (Interlocked.Exchange(ref _dropped, 0) is var dropped and > 0)
            {
                LogDropped(logger, dropped);
            }
            return batch.Count;
        }
        finally
        {
            _writing.Release();
        }
    }

    public override void Dispose()
    {
        _writing.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing search queries to the archive's staging table failed")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost {Count} search queries for the archive (staging write failed)")]
    private static partial void LogBatchLost(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped {Count} search queries for the archive: the queue was full")]
    private static partial void LogDropped(ILogger logger, long count);
}
