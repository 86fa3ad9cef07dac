using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Kernel.Persistence;

/// <summary>Applies every module's pending migrations, module by module, logging each one and its duration.</summary>
public sealed partial class DatabaseMigrator(
    IServiceProvider services,
    IEnumerable<ModuleDbContextRegistration> modules,
    IOptions<DataOptions> data,
    ILogger<DatabaseMigrator> logger)
{
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        // The folder holds password hashes, addresses and the signing key: its owner only.
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(data.Value.FullPath);
        }
        else
        {
            Directory.CreateDirectory(data.Value.FullPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var first = true;
        foreach (var module in modules)
        {
            await using var scope = services.CreateAsyncScope();
            var db = (DbContext)scope.ServiceProvider.GetRequiredService(module.ContextType);
            if (first && db.Database.IsSqlite())
            {
                // Readers never block the writer, and commits append to the log instead of rewriting pages.
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            }
            first = false;
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count == 0)
            {
                continue;
            }
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await db.Database.MigrateAsync(cancellationToken);
            LogMigrated(logger, module.Schema, string.Join(", ", pending), System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Migrated {Schema}: {Migrations} in {ElapsedMs:F0} ms")]
    private static partial void LogMigrated(ILogger logger, string schema, string migrations, double elapsedMs);
}
