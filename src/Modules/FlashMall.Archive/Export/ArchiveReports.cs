using System.Text;
using DuckDB.NET.Data;
using FlashMall.Archive.Storage;
using Microsoft.Extensions.Options;

namespace FlashMall.Archive.Export;

/// <summary>One row of the GMV report: paid orders and their line amounts (fen) per UTC day and category.</summary>
internal sealed record GmvRow(string Day, string? CategoryId, string? Category, long Orders, long Gmv);

/// <summary>The query ran past <see cref="ArchiveOptions.QueryTimeout"/> and was interrupted.</summary>
internal sealed class ArchiveQueryTimeoutException() : Exception("The archive query ran out of time.");

/// <summary>
/// Named reports over the archive, run by an in-process DuckDB (in memory, no persistent state) on
/// the partitions of the asked days only: local files, or local copies of the bucket's objects.
/// The SQL is fixed; only file paths from the store's own listing are put into it.
/// </summary>
internal sealed class ArchiveReports(IArchiveStore store, IOptions<ArchiveOptions> options)
{
    public async Task<IReadOnlyList<GmvRow>> GmvByDayAndCategoryAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var files = await PartitionsAsync(Datasets.Orders, from, to, cancellationToken);
        if (files.Count == 0)
        {
            return [];
        }
        var sql = $"""
            SELECT CAST(dt AS VARCHAR) AS day, category_id, max(category_name) AS category,
                   count(DISTINCT order_id) AS orders, CAST(coalesce(sum(line_amount), 0) AS BIGINT) AS gmv
            FROM read_parquet({FileList(files)}, hive_partitioning = true)
            WHERE event = 'paid'
            GROUP BY ALL
            ORDER BY day, category_id NULLS LAST
            """;
        return await QueryAsync(sql, r => new GmvRow(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2),
            r.GetInt64(3), r.GetInt64(4)), cancellationToken);
    }

    /// <summary>Local paths of the dataset's files in the days' partitions (one listing of the dataset, filtered by <c>dt</c>).</summary>
    private async Task<IReadOnlyList<string>> PartitionsAsync(string dataset, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var first = ArchiveDays.Partition(dataset, from);
        var last = ArchiveDays.Partition(dataset, to);
        var paths = new List<string>();
        foreach (var file in await store.ListAsync($"archive/{dataset}/dt=", cancellationToken))
        {
            var partition = file.Key[..(file.Key.LastIndexOf('/') + 1)];
            if (string.CompareOrdinal(partition, first) >= 0 && string.CompareOrdinal(partition, last) <= 0)
            {
                paths.Add(await store.LocalPathAsync(file, cancellationToken));
            }
        }
        return paths;
    }

    private static string FileList(IReadOnlyList<string> paths)
    {
        var list = new StringBuilder("[");
        foreach (var path in paths)
        {
            list.Append(list.Length > 1 ? ", " : "").Append('\'').Append(path.Replace("'", "''", StringComparison.Ordinal)).Append('\'');
        }
        return list.Append(']').ToString();
    }

    private async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, Func<System.Data.Common.DbDataReader, T> read, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.QueryTimeout);
        await using var connection = new DuckDBConnection("DataSource=:memory:");
        await connection.OpenAsync(cancellationToken);
        await using (var settings = connection.CreateCommand())
        {
            settings.CommandText = $"SET memory_limit = '{options.Value.QueryMemoryLimit}'; SET threads = 2; SET autoinstall_known_extensions = false; SET autoload_known_extensions = false;";
            await settings.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var interrupt = timeout.Token.Register(command.Cancel);
        try
        {
            var rows = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(timeout.Token);
            while (await reader.ReadAsync(timeout.Token))
            {
                rows.Add(read(reader));
            }
            return rows;
        }
        catch (Exception) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ArchiveQueryTimeoutException();
        }
    }
}
