namespace FlashMall.Cli.Db;

/// <summary>What a migrate run did: applied, and (expand-only runs) what it left for later.</summary>
internal sealed record MigrateResult(
    List<MigrationRun> Applied, List<DestructiveMigration> Destructive, List<DestructiveMigration> Deferred, Dictionary<string, string> Scripts);

/// <summary>
/// The one migrate procedure, shared by <c>db migrate</c> and <c>release deploy</c>: refuse a newer
/// database, refuse destructive migrations without permission, then apply each pending migration
/// in order and report it with its duration.
/// </summary>
internal static class MigrateFlow
{
    /// <param name="migrations">The module registry.</param>
    /// <param name="output">Progress lines.</param>
    /// <param name="dryRun">Print the SQL, change nothing.</param>
    /// <param name="allowDestructive">Apply migrations that drop or rewrite data.</param>
    /// <param name="expandOnly">Apply each module's pending migrations up to its first destructive one; leave the rest (deploy's pre-switch phase).</param>
    /// <param name="upTo">Per module, the last migration to apply (a release's manifest); null: everything the tool knows.</param>
    /// <param name="cancellationToken">Stops between migrations.</param>
    public static async Task<MigrateResult> RunAsync(
        ModuleMigrations migrations, Output output, bool dryRun, bool allowDestructive, bool expandOnly,
        IReadOnlyDictionary<string, string[]>? upTo, CancellationToken cancellationToken)
    {
        var states = await migrations.StatusAsync(cancellationToken);
        ModuleMigrations.RefuseNewerDatabase(states);
        var plan = new List<(string Module, List<string> Pending)>();
        foreach (var state in states)
        {
            var pending = state.Pending.ToList();
            if (upTo is not null)
            {
                var wanted = upTo.TryGetValue(state.Module, out var list) ? list : [];
                pending = [.. pending.Where(wanted.Contains)];
            }
            if (pending.Count > 0)
            {
                plan.Add((state.Module, pending));
            }
        }

        var destructive = plan.SelectMany(p => migrations.Destructive(p.Module, p.Pending)).ToList();
        var deferred = new List<DestructiveMigration>();
        if (expandOnly)
        {
            for (var i = 0; i < plan.Count; i++)
            {
                var firstBad = plan[i].Pending.FindIndex(id => destructive.Any(d => d.Module == plan[i].Module && d.Migration == id));
                if (firstBad >= 0)
                {
                    var later = plan[i].Pending.Skip(firstBad).ToList();
                    deferred.AddRange(later.Select(id => destructive.FirstOrDefault(d => d.Module == plan[i].Module && d.Migration == id)
                        ?? new DestructiveMigration(plan[i].Module, id, ["after a destructive migration"])));
                    plan[i] = (plan[i].Module, plan[i].Pending.Take(firstBad).ToList());
                }
            }
        }
        else if (destructive.Count > 0 && !allowDestructive && !dryRun)
        {
            foreach (var d in destructive)
            {
                output.Error($"  {d.Module} {d.Migration}: {string.Join("; ", d.Operations)}");
            }
            throw new CliException(ExitCodes.DestructiveRefused,
                $"{destructive.Count} pending migration(s) drop or rewrite data; nothing was applied. Re-run with --allow-destructive once the data is backed up.");
        }

        var scripts = new Dictionary<string, string>(StringComparer.Ordinal);
        var applied = new List<MigrationRun>();
        var total = plan.Sum(p => p.Pending.Count);
        if (total == 0)
        {
            output.Good("No pending migrations: the database is up to date.");
        }
        foreach (var (module, pending) in plan.Where(p => p.Pending.Count > 0))
        {
            if (dryRun)
            {
                var done = states.Single(s => s.Module == module).Applied;
                var from = done.Count > 0 ? done[^1] : null;
                var sql = migrations.Script(module, from, pending[^1]);
                scripts[module] = sql;
                output.Raw($"-- module {module}: {string.Join(", ", pending)}");
                output.Raw(sql);
                continue;
            }
            applied.AddRange(await migrations.ApplyAsync(module, pending,
                run => output.Line($"  applied {run.Module,-10} {run.Migration,-40} {run.Milliseconds,8:F1} ms"), cancellationToken));
        }
        if (dryRun && total > 0)
        {
            output.Line($"Dry run: {total} migration(s) would be applied; nothing was changed.");
        }
        return new MigrateResult(applied, destructive, deferred, scripts);
    }
}
