using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FlashMall.Kernel.Persistence;

public static class DbUpdateExceptionExtensions
{
    private const int SqliteConstraint = 19;

    /// <summary>True when the store refused the write because a unique key already exists.</summary>
    public static bool IsUniqueViolation(this DbUpdateException exception) => IsUniqueViolation(exception.InnerException);

    /// <summary>The same for a provider exception thrown by a raw command (e.g. <see cref="BulkInsert"/>), or none.</summary>
    public static bool IsUniqueViolation(this System.Data.Common.DbException exception) => IsUniqueViolation((Exception)exception);

    private static bool IsUniqueViolation(Exception? exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException sqlite => sqlite.SqliteErrorCode == SqliteConstraint
            && sqlite.SqliteExtendedErrorCode is 1555 /* PRIMARYKEY */ or 2067 /* UNIQUE */,
        _ => false,
    };
}
