using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlashMall.Kernel.Hosting;

/// <summary>
/// Work that must finish before the node takes traffic: migrations, the admin bootstrap, demo data.
/// Runs in <see cref="Order"/>, each in its own scope.
/// </summary>
public interface IStartupTask
{
    int Order { get; }

    Task RunAsync(CancellationToken cancellationToken);
}

public static class StartupTaskOrder
{
    public const int Bootstrap = 100;
    public const int DemoCatalog = 200;
    public const int DemoFlashSales = 300;
}

public static class StartupTaskExtensions
{
    public static IServiceCollection AddStartupTask<TTask>(this IServiceCollection services)
        where TTask : class, IStartupTask => services.AddScoped<IStartupTask, TTask>();

}

/// <summary>
/// Migrates every module's schema and runs the start-up tasks while the host starts, before the
/// server takes requests (hosted services start ahead of the web server).
/// </summary>
internal sealed class StartupTaskRunner(
    IServiceProvider services, Persistence.DatabaseMigrator migrator, Microsoft.Extensions.Options.IOptions<Persistence.DatabaseOptions> database) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (database.Value.MigrateOnStart)
        {
            await migrator.MigrateAsync(cancellationToken);
        }
        await using var scope = services.CreateAsyncScope();
        foreach (var task in scope.ServiceProvider.GetServices<IStartupTask>().OrderBy(t => t.Order))
        {
            await task.RunAsync(cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary><c>Demo:*</c>: deterministic demo data for trying the system out.</summary>
public sealed class DemoOptions
{
    public const string SectionName = "Demo";

    /// <summary>Seeds demo data; defaults to on in Development.</summary>
    public bool? Seed { get; set; }

    public bool ShouldSeed(IHostEnvironment environment) => Seed ?? environment.IsDevelopment();
}
