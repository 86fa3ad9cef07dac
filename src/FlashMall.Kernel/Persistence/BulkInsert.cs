using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace FlashMall.Kernel.Persistence;

/// <summary>
/// Inserts many rows of one entity as multi-row <c>INSERT … VALUES (…), (…)</c> statements in the
/// caller's transaction, without change tracking: for hot paths that write hundreds of rows per
/// commit (group-committed reservations). Column names, table name and value conversions come
/// from the EF model, so the rows are exactly what <c>SaveChanges</c> would have written.
/// Only for entities whose every property is a mapped column with a client-set value.
/// </summary>
public static class BulkInsert
{
    /// <summary>Rows per statement: keeps parameters well under SQLite's (32,766) and PostgreSQL's (65,535) limits.</summary>
    public const int RowsPerStatement = 500;

    public static async Task InsertAsync<TEntity>(DbContext db, IReadOnlyList<TEntity> rows, CancellationToken cancellationToken = default)
        where TEntity : class
    {
        if (rows.Count == 0)
        {
            return;
        }
        var entity = db.Model.FindEntityType(typeof(TEntity)) ?? throw new InvalidOperationException($"{typeof(TEntity).Name} is not in the model.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var properties = entity.GetProperties().ToArray();
        var sql = db.GetService<ISqlGenerationHelper>();
        var columns = string.Join(", ", properties.Select(p => sql.DelimitIdentifier(p.GetColumnName(table)!)));
        var target = sql.DelimitIdentifier(table.Name, table.Schema);
        var mappings = properties.Select(p => (RelationalTypeMapping)p.GetRelationalTypeMapping()).ToArray();

        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
        }
        foreach (var chunk in rows.Chunk(RowsPerStatement))
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            var text = new StringBuilder($"INSERT INTO {target} ({columns}) VALUES ");
            var n = 0;
            for (var r = 0; r < chunk.Length; r++)
            {
                text.Append(r == 0 ? "(" : ", (");
                for (var c = 0; c < properties.Length; c++)
                {
                    var name = $"@p{n++}";
                    text.Append(c == 0 ? name : $", {name}");
                    // CreateParameter applies the property's value converter, as SaveChanges would.
                    var value = properties[c].PropertyInfo?.GetValue(chunk[r]) ?? properties[c].FieldInfo?.GetValue(chunk[r]);
                    command.Parameters.Add(mappings[c].CreateParameter(command, name, value, properties[c].IsNullable));
                }
                text.Append(')');
            }
            command.CommandText = text.ToString();
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
