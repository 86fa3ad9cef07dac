using Parquet;
using Parquet.Schema;

namespace FlashMall.Archive.Export;

/// <summary>The Parquet types the archive writes (docs/ARCHIVE.md lists each dataset's columns).</summary>
internal enum ColumnType
{
    /// <summary>UTF-8 string (BYTE_ARRAY, STRING); ids are their canonical text.</summary>
    String,
    /// <summary>INT32.</summary>
    Int32,
    /// <summary>INT64: money in minor units (fen).</summary>
    Int64,
    /// <summary>BOOLEAN.</summary>
    Boolean,
    /// <summary>INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true).</summary>
    Timestamp,
}

/// <summary>One column of a dataset: name, type, nullability and how to read it from a row.</summary>
internal sealed record Column<TRow>(string Name, ColumnType Type, bool Nullable, Func<TRow, object?> Value)
{
    public DataField Field() => Type switch
    {
        ColumnType.String => new DataField<string>(Name, Nullable),
        ColumnType.Int32 => Nullable ? new DataField<int?>(Name) : new DataField<int>(Name),
        ColumnType.Int64 => Nullable ? new DataField<long?>(Name) : new DataField<long>(Name),
        ColumnType.Boolean => Nullable ? new DataField<bool?>(Name) : new DataField<bool>(Name),
        ColumnType.Timestamp => new DateTimeDataField(Name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: Nullable),
        _ => throw new ArgumentOutOfRangeException(nameof(Type)),
    };
}

/// <summary>Writes rows as one Parquet file with one row group (Snappy), column by column.</summary>
internal static class ParquetTable
{
    public static async Task WriteAsync<TRow>(IReadOnlyList<Column<TRow>> columns, IReadOnlyList<TRow> rows, string path, CancellationToken cancellationToken)
    {
        var fields = columns.Select(c => c.Field()).ToArray();
        await using (var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), file,
                new ParquetOptions { CompressionMethod = CompressionMethod.Snappy }, cancellationToken: cancellationToken))
            {
                writer.CustomMetadata = new Dictionary<string, string> { ["writer"] = "FlashMall.Archive" };
                using var group = writer.CreateRowGroup();
                for (var i = 0; i < columns.Count; i++)
                {
                    await WriteColumnAsync(group, fields[i], columns[i], rows, cancellationToken);
                }
            }
            // Durable before it is renamed into place or uploaded: the staged rows go once the file is.
            file.Flush(flushToDisk: true);
        }
    }

    private static async Task WriteColumnAsync<TRow>(ParquetRowGroupWriter group, DataField field, Column<TRow> column, IReadOnlyList<TRow> rows, CancellationToken cancellationToken)
    {
        switch (column.Type)
        {
            case ColumnType.String:
                await group.WriteAsync(field, rows.Select(r => (string?)column.Value(r)).ToArray()!, null);
                break;
            case ColumnType.Int32:
                await WriteAsync<int, TRow>(group, field, column, rows, cancellationToken);
                break;
            case ColumnType.Int64:
                await WriteAsync<long, TRow>(group, field, column, rows, cancellationToken);
                break;
            case ColumnType.Boolean:
                await WriteAsync<bool, TRow>(group, field, column, rows, cancellationToken);
                break;
            case ColumnType.Timestamp:
                var times = rows.Select(r => column.Value(r) is DateTimeOffset at ? at.UtcDateTime : (DateTime?)null).ToArray();
                if (column.Nullable)
                {
                    await group.WriteAsync<DateTime>(field, times.AsMemory(), null, null, cancellationToken);
                }
                else
                {
                    await group.WriteAsync<DateTime>(field, times.Select(t => t!.Value).ToArray().AsMemory(), null, null, cancellationToken);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(column));
        }
    }

    private static async Task WriteAsync<T, TRow>(ParquetRowGroupWriter group, DataField field, Column<TRow> column, IReadOnlyList<TRow> rows, CancellationToken cancellationToken)
        where T : struct
    {
        if (column.Nullable)
        {
            await group.WriteAsync<T>(field, rows.Select(r => (T?)column.Value(r)).ToArray().AsMemory(), null, null, cancellationToken);
        }
        else
        {
            await group.WriteAsync<T>(field, rows.Select(r => (T)column.Value(r)!).ToArray().AsMemory(), null, null, cancellationToken);
        }
    }
}
