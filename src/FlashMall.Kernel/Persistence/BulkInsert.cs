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
/// Only for entities whose every property is a mapped column with a client-set value (an owned
/// collection's rows take their owner's key through <see cref="InsertOwnedAsync"/>), except a
/// single-column integer key the database numbers (identity, SQLite's rowid), which is left out
/// as <c>SaveChanges</c> leaves it.
/// </summary>
public static class BulkInsert
{
    /// <summary>Rows per statement on PostgreSQL: keeps parameters well under its limit (65,535).</summary>
    public const int RowsPerStatement = 500;

    public static Task InsertAsync<TEntity>(DbContext db, IReadOnlyList<TEntity> rows, CancellationToken cancellationToken = default)
        where TEntity : class
    {
        var entity = db.Model.FindEntityType(typeof(TEntity)) ?? throw new InvalidOperationException($"{typeof(TEntity).Name} is not in the model.");
        return InsertRowsAsync(db, entity, rows.Count, (row, property) => ValueOf(property, rows[row]!), cancellationToken);
    }

    /// <summary>
    /// Rows of an owned collection (<c>OwnsMany</c>), each with its owner: the key columns the item
    /// shares with its owner (shadow foreign-key properties) take the owner's key values.
    /// </summary>
    public static Task InsertOwnedAsync<TOwner, TOwned>(DbContext db, IReadOnlyList<(TOwner Owner, TOwned Item)> rows, CancellationToken cancellationToken = default)
        where TOwner : class
        where TOwned : class
    {
        var entity = db.Model.FindEntityType(typeof(TOwned)) ?? throw new InvalidOperationException($"{typeof(TOwned).Name} is not in the model.");
        return InsertRowsAsync(db, entity, rows.Count, (row, property) => property.IsShadowProperty()
            ? OwnerKeyValue(property, rows[row].Owner)
            : ValueOf(property, rows[row].Item), cancellationToken);
    }

    /// <summary>EF's convention: a lone integer primary key generated on add is the database's identity column.</summary>
    private static bool NumberedByDatabase(IProperty property) =>
        property.ValueGenerated.HasFlag(ValueGenerated.OnAdd)
        && property.FindContainingPrimaryKey() is { Properties.Count: 1 }
        && (property.ClrType == typeof(long) || property.ClrType == typeof(int) || property.ClrType == typeof(short));

    private static object? ValueOf(IProperty property, object row) =>
        property.PropertyInfo?.GetValue(row) ?? property.FieldInfo?.GetValue(row)
        ?? (property.PropertyInfo is null && property.FieldInfo is null
            ? throw new InvalidOperationException($"{property.DeclaringType.DisplayName()}.{property.Name} has no CLR member: bulk insert cannot read it.")
            : null);

    private static object? OwnerKeyValue(IProperty property, object owner)
    {
        var ownership = property.GetContainingForeignKeys().SingleOrDefault(fk => fk.IsOwnership)
            ?? throw new InvalidOperationException($"{property.DeclaringType.DisplayName()}.{property.Name} is a shadow property but not the owner's key.");
        for (var i = 0; i < ownership.Properties.Count; i++)
        {
            if (ownership.Properties[i] == property)
            {
                return ValueOf(ownership.PrincipalKey.Properties[i], owner);
            }
        }
        throw new InvalidOperationException($"{property.Name} is not in the ownership's key.");
    }

    private static async Task InsertRowsAsync(DbContext db, IEntityType entity, int count, Func<int, IProperty, object?> valueOf, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return;
        }
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var properties = entity.GetProperties().Where(p => !NumberedByDatabase(p)).ToArray();
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
        if (db.Database.ProviderName?.EndsWith(".Sqlite", StringComparison.Ordinal) == true)
        {
            await InsertOneByOneAsync(connection, transaction, $"INSERT INTO {target} ({columns}) VALUES ({string.Join(", ", properties.Select((_, c) => $"@p{c}"))})",
                properties, mappings, count, valueOf, cancellationToken);
            return;
        }
        for (var first = 0; first < count; first += RowsPerStatement)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            var text = new StringBuilder($"INSERT INTO {target} ({columns}) VALUES ");
            var n = 0;
            for (var r = first; r < Math.Min(count, first + RowsPerStatement); r++)
            {
                text.Append(r == first ? "(" : ", (");
                for (var c = 0; c < properties.Length; c++)
                {
                    var name = $"@p{n++}";
                    text.Append(c == 0 ? name : $", {name}");
                    // CreateParameter applies the property's value converter, as SaveChanges would.
                    command.Parameters.Add(mappings[c].CreateParameter(command, name, valueOf(r, properties[c]), properties[c].IsNullable));
                }
                text.Append(')');
            }
            command.CommandText = text.ToString();
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// SQLite: one single-row statement, prepared once and run per row (SQLite's own advice for
    /// bulk loads; an embedded database pays no round trip per statement). Multi-row statements
    /// cost more here: each is parsed anew, and Microsoft.Data.Sqlite binds every parameter by
    /// name, which SQLite finds by walking the statement's list of names — quadratic in the
    /// parameters (<c>strncmp</c> was a tenth of the journal drain's CPU with 256 per statement).
    /// </summary>
    private static async Task InsertOneByOneAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? transaction, string text,
        IProperty[] properties, RelationalTypeMapping[] mappings, int count, Func<int, IProperty, object?> valueOf, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = text;
        for (var r = 0; r < count; r++)
        {
            command.Parameters.Clear();
            for (var c = 0; c < properties.Length; c++)
            {
                // CreateParameter applies the property's value converter, as SaveChanges would.
                command.Parameters.Add(mappings[c].CreateParameter(command, $"@p{c}", valueOf(r, properties[c]), properties[c].IsNullable));
            }
            await command.ExecuteNonQueryAsync(cancellationToken); // the statement is prepared on the first row and reused
        }
    }
}
