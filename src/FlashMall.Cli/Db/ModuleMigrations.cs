using System.Diagnostics;
using System.Text.RegularExpressions;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlashMall.Cli.Db;

/// <summary>One module's migrations: what the tool knows, what the database has applied.</summary>
internal sealed record ModuleState(string Module, IReadOnlyList<string> Known, IReadOnlyList<string> Applied)
{
    public IReadOnlyList<string> Pending { get; } = [.. Known.Except(Applied, StringComparer.Ordinal)];

    /// <summary>Applied migrations the tool does not know: the database is newer than the tool.</summary>
    public IReadOnlyList<string> Unknown { get; } = [.. Applied.Except(Known, StringComparer.Ordinal)];
}

/// <summary>A migration applied (or reverted) and how long it took.</summary>
internal sealed record MigrationRun(string Module, string Migration, double Milliseconds, string Direction = "up");

/// <summary>A pending migration's operations that drop or rewrite data.</summary>
internal sealed record DestructiveMigration(string Module, string Migration, IReadOnlyList<string> Operations);

/// <summary>
/// Every module's migrations, on the database the server's configuration names. The contexts come
/// from the server's own registrations (<see cref="ModuleDbContextRegistration"/>), so the tool
/// migrates exactly what the server would at start-up.
/// </summary>
internal sealed partial class ModuleMigrations : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly List<(string Module, AsyncServiceScope Scope, DbContext Db)> _modules = [];

    private ModuleMigrations(IHost host)
    {
        _host = host;
        foreach (var registration in host.Services.GetServices<ModuleDbContextRegistration>())
        {
            var scope = host.Services.CreateAsyncScope();
            _modules.Add((registration.Schema, scope, (DbContext)scope.ServiceProvider.GetRequiredService(registration.ContextType)));
        }
    }

    public IServiceProvider Services => _host.Services;

    public IEnumerable<string> Modules => _modules.Select(m => m.Module);

    public bool IsSqlite => _modules.Count > 0 && _modules[0].Db.Database.IsSqlite();

    /// <summary>What the server's configuration points at, without a password.</summary>
    public string Describe()
    {
        var data = _host.Services.GetRequiredService<IOptions<DataOptions>>().Value;
        var provider = IsSqlite ? DatabaseProvider.Sqlite : DatabaseProvider.Postgres;
        return DatabaseRegistration.Describe(provider, _host.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>(), data);
    }

    public static ModuleMigrations Open(DatabaseTarget target, IEnumerable<string>? extra = null)
    {
        var host = ServerServices.Build(target.Overrides().Concat(extra ?? []));
        return new ModuleMigrations(host);
    }

    /// <summary>Every migration the tool knows, by module (the list a release manifest carries).</summary>
    public Dictionary<string, string[]> KnownMigrations() =>
        _modules.ToDictionary(m => m.Module, m => m.Db.Database.GetMigrations().ToArray(), StringComparer.Ordinal);

    public async Task<List<ModuleState>> StatusAsync(CancellationToken cancellationToken)
    {
        await PrepareAsync(cancellationToken);
        var states = new List<ModuleState>();
        foreach (var (module, _, db) in _modules)
        {
            var applied = (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).ToList();
            states.Add(new ModuleState(module, [.. db.Database.GetMigrations()], applied));
        }
        return states;
    }

    /// <summary>Refuses (exit 4) when any module has applied migrations this tool does not know.</summary>
    public static void RefuseNewerDatabase(IEnumerable<ModuleState> states)
    {
        var unknown = states.Where(s => s.Unknown.Count > 0).Select(s => $"{s.Module}: {string.Join(", ", s.Unknown)}").ToList();
        if (unknown.Count > 0)
        {
            throw new CliException(ExitCodes.DatabaseNewer,
                $"The database is newer than this tool: it has applied migrations the tool does not know ({string.Join("; ", unknown)}). " +
                "Use the flashmall tool of the release that wrote them.");
        }
    }

    /// <summary>The destructive operations among <paramref name="migrations"/> (up, or down when reverting).</summary>
    public List<DestructiveMigration> Destructive(string module, IEnumerable<string> migrations, bool down = false)
    {
        var db = Context(module);
        var assembly = db.GetService<IMigrationsAssembly>();
        var found = new List<DestructiveMigration>();
        foreach (var id in migrations)
        {
            var migration = assembly.CreateMigration(assembly.Migrations[id], db.Database.ProviderName!);
            var operations = (down ? migration.DownOperations : migration.UpOperations).Select(Describe).OfType<string>().ToList();
            if (operations.Count > 0)
            {
                found.Add(new DestructiveMigration(module, id, operations));
            }
        }
        return found;
    }

    /// <summary>Why an operation loses or rewrites data; null when it only adds.</summary>
    public static string? Describe(MigrationOperation operation) => operation switch
    {
        DropTableOperation o => $"DropTable {o.Name}",
        DropColumnOperation o => $"DropColumn {o.Table}.{o.Name}",
        DropSchemaOperation o => $"DropSchema {o.Name}",
        RenameTableOperation o => $"RenameTable {o.Name} -> {o.NewName}",
        RenameColumnOperation o => $"RenameColumn {o.Table}.{o.Name} -> {o.NewName}",
        DeleteDataOperation o => $"DeleteData {o.Table}",
        AlterColumnOperation o when o.ClrType != o.OldColumn.ClrType
            || !string.Equals(o.ColumnType, o.OldColumn.ColumnType, StringComparison.OrdinalIgnoreCase)
            || (o.MaxLength is { } max && (o.OldColumn.MaxLength is null || max < o.OldColumn.MaxLength))
            || (!o.IsNullable && o.OldColumn.IsNullable) => $"AlterColumn {o.Table}.{o.Name} (type, length or nullability)",
        SqlOperation o when DestructiveSql().IsMatch(o.Sql) => $"Sql: {FirstLine(o.Sql)}",
        _ => null,
    };

    /// <summary>Applies <paramref name="migrations"/> of <paramref name="module"/> one by one, reporting each.</summary>
    public async Task<List<MigrationRun>> ApplyAsync(string module, IEnumerable<string> migrations, Action<MigrationRun> report, CancellationToken cancellationToken)
    {
        await PrepareAsync(cancellationToken);
        var migrator = Context(module).GetService<IMigrator>();
        var runs = new List<MigrationRun>();
        foreach (var id in migrations)
        {
            var started = Stopwatch.GetTimestamp();
            await migrator.MigrateAsync(id, cancellationToken);
            var run = new MigrationRun(module, id, Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1));
            runs.Add(run);
            report(run);
        }
        return runs;
    }

    /// <summary>Reverts <paramref name="module"/> to <paramref name="target"/> (<c>0</c>: before its first migration).</summary>
    public async Task<MigrationRun> RevertAsync(string module, string target, CancellationToken cancellationToken)
    {
        var migrator = Context(module).GetService<IMigrator>();
        var started = Stopwatch.GetTimestamp();
        await migrator.MigrateAsync(target, cancellationToken);
        return new MigrationRun(module, target, Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1), "down");
    }

    /// <summary>The SQL that would take <paramref name="module"/> from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public string Script(string module, string? from, string to) =>
        Context(module).GetService<IMigrator>().GenerateScript(from, to, MigrationsSqlGenerationOptions.Default);

    public DbContext Context(string module) =>
        _modules.FirstOrDefault(m => m.Module == module).Db
        ?? throw new CliException(ExitCodes.Usage, $"No module '{module}'. Modules: {string.Join(", ", Modules)}.");

    /// <summary>As the server's migrator: the data folder exists (owner only) and SQLite runs in WAL mode.</summary>
    private async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (_modules.Count == 0 || !_modules[0].Db.Database.IsSqlite())
        {
            return;
        }
        var data = _host.Services.GetRequiredService<IOptions<DataOptions>>().Value;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(data.FullPath);
        }
        else
        {
            Directory.CreateDirectory(data.FullPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        await _modules[0].Db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
    }

    private static string FirstLine(string sql)
    {
        var line = sql.Trim().Split('\n')[0].Trim();
        return line.Length > 80 ? line[..80] + "…" : line;
    }

    [GeneratedRegex(@"\b(DROP|DELETE|TRUNCATE|RENAME)\b|\bALTER\s+TABLE\b[^;]*\b(ALTER|DROP)\b", RegexOptions.IgnoreCase)]
    private static partial Regex DestructiveSql();

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, scope, _) in _modules)
        {
            await scope.DisposeAsync();
        }
        _host.Dispose();
    }
}
