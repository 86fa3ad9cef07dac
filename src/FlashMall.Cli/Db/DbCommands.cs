using System.CommandLine;
using FlashMall.Kernel.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.Cli.Db;

/// <summary><c>flashmall db status | migrate | rollback-to | seed</c>.</summary>
internal static class DbCommands
{
    public static Command Create(CommandIo io)
    {
        var db = new Command("db", "Database migrations of every module, on SQLite or PostgreSQL (the server's configuration keys).");

        var status = new Command("status", "Lists each module's applied and pending migrations. Exit 0 up to date, 5 pending, 4 database newer than the tool.");
        DatabaseTarget.AddOptions(status);
        io.Handle(status, StatusAsync);

        var dryRun = new Option<bool>("--dry-run") { Description = "Print the SQL the migrations would run; change nothing." };
        var allowDestructive = new Option<bool>("--allow-destructive") { Description = "Apply migrations that drop or rewrite data (DropTable, DropColumn, column type changes, renames)." };
        var migrate = new Command("migrate", "Applies pending migrations, module by module, printing each and its duration. Exit 3 when one is destructive without --allow-destructive, 4 when the database is newer than the tool.");
        DatabaseTarget.AddOptions(migrate);
        migrate.Options.Add(dryRun);
        migrate.Options.Add(allowDestructive);
        io.Handle(migrate, async (parse, output, ct) =>
        {
            await using var migrations = ModuleMigrations.Open(DatabaseTarget.From(parse));
            output.Line($"Database: {migrations.Describe()}");
            var result = await MigrateFlow.RunAsync(migrations, output, parse.GetValue(dryRun), parse.GetValue(allowDestructive), expandOnly: false, upTo: null, ct);
            if (!parse.GetValue(dryRun))
            {
                output.Good($"Applied {result.Applied.Count} migration(s) in {result.Applied.Sum(r => r.Milliseconds):F0} ms.");
            }
            output.Result(new
            {
                dryRun = parse.GetValue(dryRun),
                applied = result.Applied,
                destructive = result.Destructive,
                sql = parse.GetValue(dryRun) ? result.Scripts : null,
            });
            return ExitCodes.Ok;
        });

        var module = new Argument<string>("module") { Description = "The module (schema), e.g. ops, catalog." };
        var target = new Argument<string>("migration") { Description = "The migration to return to (its id, e.g. 20261126090501_Initial), or 0 for before the module's first." };
        var rollback = new Command("rollback-to", "Reverts one module's migrations back to <migration> (runs their Down). Destructive reverts need --allow-destructive.");
        rollback.Arguments.Add(module);
        rollback.Arguments.Add(target);
        DatabaseTarget.AddOptions(rollback);
        rollback.Options.Add(dryRun);
        rollback.Options.Add(allowDestructive);
        io.Handle(rollback, async (parse, output, ct) =>
        {
            var name = parse.GetValue(module)!;
            var to = parse.GetValue(target)!;
            await using var migrations = ModuleMigrations.Open(DatabaseTarget.From(parse));
            var states = await migrations.StatusAsync(ct);
            ModuleMigrations.RefuseNewerDatabase(states);
            var state = states.SingleOrDefault(s => s.Module == name)
                ?? throw new CliException(ExitCodes.Usage, $"No module '{name}'. Modules: {string.Join(", ", states.Select(s => s.Module))}.");
            if (to != "0" && !state.Known.Contains(to))
            {
                throw new CliException(ExitCodes.Usage, $"Module {name} has no migration '{to}'. Known: {string.Join(", ", state.Known)}.");
            }
            if (to != "0" && !state.Applied.Contains(to))
            {
                throw new CliException(ExitCodes.Usage, $"Migration {to} of {name} is not applied: nothing to roll back to.");
            }
            var index = to == "0" ? -1 : state.Applied.ToList().IndexOf(to);
            var reverted = state.Applied.Skip(index + 1).Reverse().ToList();
            if (reverted.Count == 0)
            {
                output.Good($"{name} is already at {to}.");
                output.Result(new { module = name, target = to, reverted });
                return ExitCodes.Ok;
            }
            if (parse.GetValue(dryRun))
            {
                var sql = migrations.Script(name, state.Applied[^1], to);
                output.Raw(sql);
                output.Result(new { module = name, target = to, reverted, dryRun = true, sql });
                return ExitCodes.Ok;
            }
            var destructive = migrations.Destructive(name, reverted, down: true);
            if (destructive.Count > 0 && !parse.GetValue(allowDestructive))
            {
                foreach (var d in destructive)
                {
                    output.Error($"  {d.Module} {d.Migration} (down): {string.Join("; ", d.Operations)}");
                }
                throw new CliException(ExitCodes.DestructiveRefused,
                    $"Reverting {reverted.Count} migration(s) of {name} drops or rewrites data; nothing was changed. Re-run with --allow-destructive.");
            }
            var run = await migrations.RevertAsync(name, to, ct);
            output.Good($"Reverted {name} to {to} ({string.Join(", ", reverted)}) in {run.Milliseconds:F0} ms.");
            output.Result(new { module = name, target = to, reverted, milliseconds = run.Milliseconds });
            return ExitCodes.Ok;
        });

        var demo = new Option<bool>("--demo") { Description = "Also seed the demo catalog and flash sale (Demo:Seed=true)." };
        var seed = new Command("seed", "Runs the server's start-up seeding (admin bootstrap from Bootstrap:AdminEmail/AdminPassword, known switches, with --demo the demo data) on an up-to-date database.");
        DatabaseTarget.AddOptions(seed);
        seed.Options.Add(demo);
        io.Handle(seed, async (parse, output, ct) =>
        {
            await using var migrations = ModuleMigrations.Open(DatabaseTarget.From(parse), parse.GetValue(demo) ? ["Demo:Seed=true"] : null);
            var states = await migrations.StatusAsync(ct);
            ModuleMigrations.RefuseNewerDatabase(states);
            if (states.Any(s => s.Pending.Count > 0))
            {
                throw new CliException(ExitCodes.Pending, "The database has pending migrations: run 'flashmall db migrate' first.");
            }
            await using var scope = migrations.Services.CreateAsyncScope();
            var ran = new List<string>();
            foreach (var task in scope.ServiceProvider.GetServices<IStartupTask>().OrderBy(t => t.Order))
            {
                await task.RunAsync(ct);
                ran.Add(task.GetType().Name);
                output.Line($"  ran {task.GetType().Name}");
            }
            output.Good($"Seeded ({ran.Count} step(s)).");
            output.Result(new { steps = ran });
            return ExitCodes.Ok;
        });

        db.Subcommands.Add(status);
        db.Subcommands.Add(migrate);
        db.Subcommands.Add(rollback);
        db.Subcommands.Add(seed);
        return db;
    }

    private static async Task<int> StatusAsync(ParseResult parse, Output output, CancellationToken cancellationToken)
    {
        await using var migrations = ModuleMigrations.Open(DatabaseTarget.From(parse));
        output.Line($"Database: {migrations.Describe()}");
        var states = await migrations.StatusAsync(cancellationToken);
        foreach (var s in states)
        {
            var line = $"  {s.Module,-10} applied {s.Applied.Count,3}/{s.Known.Count,-3}";
            if (s.Unknown.Count > 0)
            {
                output.Error($"{line} UNKNOWN to this tool: {string.Join(", ", s.Unknown)}");
            }
            else if (s.Pending.Count > 0)
            {
                output.Warn($"{line} pending: {string.Join(", ", s.Pending)}");
            }
            else
            {
                output.Good($"{line} up to date");
            }
        }
        var newer = states.Any(s => s.Unknown.Count > 0);
        var pending = states.Sum(s => s.Pending.Count);
        output.Result(new
        {
            provider = migrations.IsSqlite ? "Sqlite" : "Postgres",
            pending,
            newerThanTool = newer,
            modules = states.Select(s => new { module = s.Module, applied = s.Applied, pending = s.Pending, unknown = s.Unknown }),
        });
        if (newer)
        {
            output.Error("The database is newer than this tool.");
            return ExitCodes.DatabaseNewer;
        }
        return pending > 0 ? ExitCodes.Pending : ExitCodes.Ok;
    }
}
