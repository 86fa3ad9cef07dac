using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FlashMall.Kernel.Persistence;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary><c>Database:*</c>: which relational store every module uses.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Statements slower than this are logged as slow queries.</summary>
    public TimeSpan SlowQueryThreshold { get; set; } = TimeSpan.FromMilliseconds(200);
}

/// <summary><c>Data:*</c>: the folder that holds the SQLite file, indexes, local media and generated keys.</summary>
public sealed class DataOptions
{
    public const string SectionName = "Data";

    [Required(AllowEmptyStrings = false)]
    public string Directory { get; set; } = "./data";

    public string FullPath => Path.GetFullPath(Directory);
}

[OptionsValidator]
public sealed partial class DataOptionsValidator : IValidateOptions<DataOptions>;
