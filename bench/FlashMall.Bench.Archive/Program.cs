using System.Diagnostics;
using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using FlashMall.Archive.Export;
using FlashMall.Contracts.Catalog;

// The business archive's file format against a CSV baseline on the same generated order lines:
// write time and size, then the GMV-by-day-and-category query in DuckDB over each (median of 3).
var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var folder = Path.Combine(Path.GetTempPath(), $"fm-bench-archive-{Guid.NewGuid():N}");
Directory.CreateDirectory(folder);
try
{
    var random = new Random(42);
    var categories = Enumerable.Range(0, 40).Select(i => new ProductCategory(Guid.CreateVersion7(), $"类目 Category {i}")).ToArray();
    var day = new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
    string[] events = ["placed", "paid", "paid", "cancelled"];
    var lines = new List<OrderLineRow>(rows);
    for (var i = 0; i < rows; i++)
    {
        var quantity = random.Next(1, 4);
        var price = random.Next(100, 1_000_000);
        lines.Add(new OrderLineRow(events[random.Next(events.Length)], Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7(), null, null,
            Guid.CreateVersion7(), 0, Guid.CreateVersion7(), Guid.CreateVersion7(), categories[random.Next(categories.Length)], quantity, price,
            (long)price * quantity, (long)price * quantity, null, day.AddMilliseconds(random.Next(86_400_000))));
    }
    Console.Error.WriteLine($"generated {rows:N0} order lines");

    var parquetDir = Path.Combine(folder, "parquet", "orders", "dt=2026-11-25");
    var csvDir = Path.Combine(folder, "csv", "orders", "dt=2026-11-25");
    Directory.CreateDirectory(parquetDir);
    Directory.CreateDirectory(csvDir);
    var parquet = Path.Combine(parquetDir, "part-0.parquet");
    var csv = Path.Combine(csvDir, "part-0.csv");

    var clock = Stopwatch.StartNew();
    await ParquetTable.WriteAsync(DatasetSchemas.Orders, lines, parquet, CancellationToken.None);
    var parquetWrite = clock.Elapsed;

    clock.Restart();
    await using (var writer = new StreamWriter(csv, false, new UTF8Encoding(false), 1 << 16))
    {
        await writer.WriteLineAsync(string.Join(',', DatasetSchemas.Orders.Select(c => c.Name)));
        var line = new StringBuilder();
        foreach (var row in lines)
        {
            line.Clear();
            foreach (var column in DatasetSchemas.Orders)
            {
                var value = column.Value(row) switch
                {
                    null => "",
                    DateTimeOffset at => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff+00", CultureInfo.InvariantCulture),
                    IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
                    var other => $"\"{other.ToString()!.Replace("\"", "\"\"", StringComparison.Ordinal)}\"",
                };
                line.Append(line.Length > 0 ? "," : "").Append(value);
            }
            await writer.WriteLineAsync(line);
        }
        await writer.FlushAsync();
        writer.BaseStream.Flush();
        ((FileStream)writer.BaseStream).Flush(flushToDisk: true);
    }
    var csvWrite = clock.Elapsed;

    const string Gmv = """
        SELECT CAST(dt AS VARCHAR) AS day, category_id, max(category_name), count(DISTINCT order_id), CAST(sum(line_amount) AS BIGINT)
        FROM {0} WHERE event = 'paid' GROUP BY ALL ORDER BY ALL
        """;
    async Task<(TimeSpan Median, long Gmv)> QueryAsync(string source)
    {
        var times = new List<TimeSpan>();
        long total = 0;
        for (var i = 0; i < 3; i++)
        {
            await using var duck = new DuckDBConnection("DataSource=:memory:");
            await duck.OpenAsync();
            await using var command = duck.CreateCommand();
            command.CommandText = "SET threads = 2; SET memory_limit = '512MB';";
            await command.ExecuteNonQueryAsync();
            command.CommandText = string.Format(CultureInfo.InvariantCulture, Gmv, source);
            var watch = Stopwatch.StartNew();
            total = 0;
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    total += reader.GetInt64(4);
                }
            }
            times.Add(watch.Elapsed);
        }
        return (times.Order().ElementAt(1), total);
    }

    var (parquetQuery, parquetGmv) = await QueryAsync($"read_parquet('{parquetDir}/*.parquet', hive_partitioning = true)");
    var (csvQuery, csvGmv) = await QueryAsync($"read_csv('{csvDir}/*.csv', header = true, hive_partitioning = true)");
    if (parquetGmv != csvGmv)
    {
        throw new InvalidOperationException($"The two formats disagree: GMV {parquetGmv} vs {csvGmv}.");
    }
    var expected = lines.Where(l => l.Event == "paid").Sum(l => l.LineAmount!.Value);
    if (parquetGmv != expected)
    {
        throw new InvalidOperationException($"GMV {parquetGmv}, expected {expected}.");
    }

    static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("N0", CultureInfo.InvariantCulture) + " ms";
    static string Mb(string path) => (new FileInfo(path).Length / 1024d / 1024d).ToString("N1", CultureInfo.InvariantCulture) + " MB";
    static string Ratio(TimeSpan baseline, TimeSpan value) => (baseline / value).ToString("N1", CultureInfo.InvariantCulture);
    Console.WriteLine($"{rows:N0} order lines (18 columns), GMV checked equal in both formats ({parquetGmv:N0} fen)");
    Console.WriteLine();
    Console.WriteLine("| format | write (fsync'ed) | size | GMV query, median of 3 | query speed-up vs CSV |");
    Console.WriteLine("| --- | --- | --- | --- | --- |");
    Console.WriteLine($"| CSV (baseline) | {Ms(csvWrite)} | {Mb(csv)} | {Ms(csvQuery)} | 1.0 |");
    Console.WriteLine($"| Parquet (archive, Snappy) | {Ms(parquetWrite)} | {Mb(parquet)} | {Ms(parquetQuery)} | {Ratio(csvQuery, parquetQuery)} |");
}
finally
{
    Directory.Delete(folder, recursive: true);
}
