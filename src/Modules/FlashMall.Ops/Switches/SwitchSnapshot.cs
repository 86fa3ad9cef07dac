using System.Collections.Frozen;
using FlashMall.Contracts.Ops;
using FlashMall.Kernel.Hosting;
using FlashMall.Ops.Domain;
using FlashMall.Ops.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.Ops.Switches;

/// <summary>
/// This node's copy of the switches: a frozen set of the names that are on, replaced whole on
/// every reload, so <see cref="IsOn"/> is one lock-free, allocation-free lookup.
/// </summary>
internal sealed class SwitchSnapshot(IServiceScopeFactory scopes) : ISwitches, IDisposable
{
    private volatile FrozenSet<string> _on = FrozenSet<string>.Empty;
    private readonly SemaphoreSlim _reloading = new(1, 1);

    public bool IsOn(string name) => _on.Contains(name);

    public void Dispose() => _reloading.Dispose();

    /// <summary>Reads the switches from the store and replaces the snapshot.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloading.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<OpsDbContext>();
            var on = await db.Switches.AsNoTracking().Where(s => s.Enabled).Select(s => s.Name).ToListAsync(cancellationToken);
            _on = on.ToFrozenSet(StringComparer.Ordinal);
        }
        finally
        {
            _reloading.Release();
        }
    }
}

/// <summary>Seeds the known switches (off) where missing, refreshes their descriptions, then loads the snapshot before the node takes traffic.</summary>
internal sealed class SeedSwitches(OpsDbContext db, SwitchSnapshot snapshot, TimeProvider clock) : IStartupTask
{
    public int Order => 50;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var existing = await db.Switches.ToDictionaryAsync(s => s.Name, StringComparer.Ordinal, cancellationToken);
        var now = clock.GetUtcNow();
        var changed = false;
        foreach (var (name, description) in KnownSwitches.All)
        {
            if (existing.TryGetValue(name, out var known))
            {
                changed |= known.Describe(description);
            }
            else
            {
                db.Switches.Add(Switch.Seed(name, description, now));
                changed = true;
            }
        }
        if (changed)
        {
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (Kernel.Persistence.DbUpdateExceptionExtensions.IsUniqueViolation(ex))
            {
                // Another node starting at the same moment seeded them.
            }
        }
        await snapshot.ReloadAsync(cancellationToken);
    }
}
