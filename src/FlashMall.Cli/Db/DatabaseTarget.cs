using System.CommandLine;

namespace FlashMall.Cli.Db;

/// <summary>
/// Which database a command works on: the server's own keys (<c>Database:Provider</c>,
/// <c>ConnectionStrings:Postgres</c>, <c>Data:Directory</c>, read from the environment as the
/// server does, e.g. <c>Database__Provider</c>), overridden by <c>FLASHMALL_DB_PROVIDER</c>,
/// <c>FLASHMALL_DB_CONNECTION</c>, <c>FLASHMALL_DATA_DIR</c>, overridden by the options.
/// </summary>
internal sealed class DatabaseTarget
{
    public static readonly Option<string?> ProviderOption = new("--provider")
    {
        Description = "Sqlite or Postgres (default: Database:Provider, env FLASHMALL_DB_PROVIDER or Database__Provider; else Sqlite).",
    };

    public static readonly Option<string?> ConnectionOption = new("--connection")
    {
        Description = "PostgreSQL connection string (default: env FLASHMALL_DB_CONNECTION or ConnectionStrings__Postgres). Never printed.",
    };

    public static readonly Option<string?> DataDirOption = new("--data-dir")
    {
        Description = "The server's data folder holding the SQLite file (default: env FLASHMALL_DATA_DIR or Data__Directory; else ./data).",
    };

    public string? Provider { get; init; }

    public string? Connection { get; init; }

    public string? DataDirectory { get; init; }

    public static void AddOptions(Command command)
    {
        command.Options.Add(ProviderOption);
        command.Options.Add(ConnectionOption);
        command.Options.Add(DataDirOption);
    }

    public static DatabaseTarget From(ParseResult parse) => new()
    {
        Provider = parse.GetValue(ProviderOption) ?? Env("FLASHMALL_DB_PROVIDER"),
        Connection = parse.GetValue(ConnectionOption) ?? Env("FLASHMALL_DB_CONNECTION"),
        DataDirectory = parse.GetValue(DataDirOption) ?? Env("FLASHMALL_DATA_DIR"),
    };

    /// <summary>Configuration overrides for the server's host (<c>Key:Sub=value</c>).</summary>
    public IEnumerable<string> Overrides()
    {
        if (Provider is not null)
        {
            yield return $"Database:Provider={Provider}";
        }
        if (Connection is not null)
        {
            yield return $"ConnectionStrings:Postgres={Connection}";
        }
        if (DataDirectory is not null)
        {
            yield return $"Data:Directory={Path.GetFullPath(DataDirectory)}";
        }
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
