using System.CommandLine;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using FlashMall.Cli.Db;

namespace FlashMall.Cli.Release;

/// <summary>Defaults for <c>release</c> options, from <c>&lt;dir&gt;/flashmall-release.json</c> (options win).</summary>
internal sealed record ReleaseSettings(
    string? RestartCommand = null, string? HealthUrl = null, double? GateSeconds = null, double? ReadyTimeoutSeconds = null,
    double? MaxErrorRatio = null, double? MaxP99Ms = null, long? MinRequests = null, int? Keep = null);

/// <summary><c>flashmall release package | deploy | rollback | list</c>.</summary>
internal static class ReleaseCommands
{
    private static readonly Option<string> ToOption = new("--to")
    {
        Description = "The deploy folder (holds releases/, current, releases.log, flashmall-release.json).",
        Required = true,
    };

    private static readonly Option<string?> RestartOption = new("--restart-command")
    {
        Description = "Restarts the service on the new current (run by /bin/sh -c; gets FLASHMALL_CURRENT, FLASHMALL_RELEASE_VERSION, FLASHMALL_ENTRY). E.g. 'systemctl restart flashmall@core flashmall@noncore'. Default: restartCommand in flashmall-release.json.",
    };

    private static readonly Option<string?> HealthUrlOption = new("--health-url")
    {
        Description = "Base URL of the restarted service, for /health/ready and /metrics (default: healthUrl in flashmall-release.json, else http://127.0.0.1:8080).",
    };

    private static readonly Option<double?> ReadyTimeoutOption = new("--ready-timeout") { Description = "Seconds the service has to answer /health/ready 200 (default 60)." };

    public static Command Create(CommandIo io)
    {
        var release = new Command("release", "Versioned releases: package, deploy behind a health gate that rolls back by itself, roll back, list.");

        var version = new Option<string?>("--version") { Description = "The release version (default: the vX.Y.Z tag on HEAD)." };
        var project = new Option<string?>("--project") { Description = $"The project to publish (default: {ReleasePackager.DefaultProject})." };
        var publishDir = new Option<string?>("--publish-dir") { Description = "Package this already-published folder instead of publishing (CI that publishes once)." };
        var outputDir = new Option<string>("--output", "-o") { Description = "Where the archive goes.", DefaultValueFactory = _ => "artifacts" };
        var property = new Option<string[]>("--property", "-p") { Description = "An MSBuild property for the publish, Name=Value (repeatable)." };
        var runtime = new Option<string>("--runtime", "-r")
        {
            Description = "The hosts' runtime identifier (framework-dependent either way); 'any' for a portable build with every platform's native libraries.",
            DefaultValueFactory = _ => System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier,
        };
        var package = new Command("package", "Publishes the server (framework-dependent: the host needs the .NET 10 runtime) and packs it with a manifest (version, commit, build time, SHA-256 of every file, the migrations it needs) into flashmall-<version>.tar.gz.");
        package.Options.Add(version);
        package.Options.Add(project);
        package.Options.Add(publishDir);
        package.Options.Add(outputDir);
        package.Options.Add(property);
        package.Options.Add(runtime);
        io.Handle(package, async (parse, output, ct) =>
        {
            var (archive, manifest) = await ReleasePackager.PackageAsync(parse.GetValue(version), parse.GetValue(project), parse.GetValue(publishDir),
                parse.GetValue(outputDir)!, parse.GetValue(property) ?? [], parse.GetValue(runtime)!, output, ct);
            output.Result(new { archive, manifest.Version, manifest.Commit, manifest.Dirty, manifest.BuiltAt, files = manifest.Files.Count, manifest.Migrations });
            return ExitCodes.Ok;
        });

        var archiveArg = new Argument<FileInfo>("archive") { Description = "The release archive (flashmall-<version>.tar.gz)." };
        var gate = new Option<double?>("--gate-seconds") { Description = "The soak window after readiness (default 60)." };
        var maxErrors = new Option<double?>("--max-error-ratio") { Description = "Highest share of 5xx answers in the window (default 0.01)." };
        var maxP99 = new Option<double?>("--max-p99-ms") { Description = "Highest p99 request duration in the window, ms (default 1000)." };
        var minRequests = new Option<long?>("--min-requests") { Description = "Requests the window needs before the ratios count (default 1)." };
        var emergency = new Option<bool>("--emergency") { Description = "Skip the soak window (never the readiness check); recorded as an emergency release." };
        var allowDestructive = new Option<bool>("--allow-destructive") { Description = "Allow the release's destructive migrations; they run after the gate passes (expand-only ones run before the switch)." };
        var keep = new Option<int?>("--keep") { Description = "Releases to keep on disk, current included (default 5)." };
        var deploy = new Command("deploy", "Unpacks the archive into <dir>/releases/<version>, verifies checksums, runs pending expand-only migrations, switches <dir>/current atomically, restarts, holds the health gate, and rolls back by itself when it fails (exit 6).");
        deploy.Arguments.Add(archiveArg);
        deploy.Options.Add(ToOption);
        deploy.Options.Add(RestartOption);
        deploy.Options.Add(HealthUrlOption);
        deploy.Options.Add(ReadyTimeoutOption);
        deploy.Options.Add(gate);
        deploy.Options.Add(maxErrors);
        deploy.Options.Add(maxP99);
        deploy.Options.Add(minRequests);
        deploy.Options.Add(emergency);
        deploy.Options.Add(allowDestructive);
        deploy.Options.Add(keep);
        DatabaseTarget.AddOptions(deploy);
        io.Handle(deploy, async (parse, output, ct) =>
        {
            var store = new ReleaseStore(parse.GetValue(ToOption)!);
            var settings = Settings(store);
            var gateSettings = new GateSettings(
                HealthUrl(parse, settings),
                TimeSpan.FromSeconds(parse.GetValue(ReadyTimeoutOption) ?? settings.ReadyTimeoutSeconds ?? 60),
                TimeSpan.FromSeconds(parse.GetValue(gate) ?? settings.GateSeconds ?? 60),
                parse.GetValue(maxErrors) ?? settings.MaxErrorRatio ?? 0.01,
                parse.GetValue(maxP99) ?? settings.MaxP99Ms ?? 1000,
                parse.GetValue(minRequests) ?? settings.MinRequests ?? 1,
                parse.GetValue(emergency));
            var restart = RestartCommand(parse, settings);
            return await DeployAsync(store, parse.GetValue(archiveArg)!, restart, gateSettings, parse.GetValue(allowDestructive),
                parse.GetValue(keep) ?? settings.Keep ?? 5, DatabaseTarget.From(parse), output, ct);
        });

        var target = new Option<string?>("--version") { Description = "The release to return to (default: the one live before current)." };
        var reason = new Option<string?>("--reason") { Description = "Why (recorded in releases.log)." };
        var rollback = new Command("rollback", "Switches current back to the previous release (or --version), restarts, and checks readiness. Migrations are not reverted (expand-only migrations keep the old release working).");
        rollback.Options.Add(ToOption);
        rollback.Options.Add(target);
        rollback.Options.Add(reason);
        rollback.Options.Add(RestartOption);
        rollback.Options.Add(HealthUrlOption);
        rollback.Options.Add(ReadyTimeoutOption);
        io.Handle(rollback, async (parse, output, ct) =>
        {
            var store = new ReleaseStore(parse.GetValue(ToOption)!);
            var settings = Settings(store);
            var current = store.CurrentVersion();
            var to = parse.GetValue(target) ?? store.PreviousOf(current)
                ?? throw new CliException(ExitCodes.BadRelease, "No previous release to roll back to.");
            var ok = await SwitchAndCheckAsync(store, to, RestartCommand(parse, settings), HealthUrl(parse, settings),
                TimeSpan.FromSeconds(parse.GetValue(ReadyTimeoutOption) ?? settings.ReadyTimeoutSeconds ?? 60), output, ct);
            store.Record(new HistoryEntry(DateTimeOffset.UtcNow, "rollback", to, current, ok ? "ok" : "failed",
                parse.GetValue(reason) ?? "by hand", false, Environment.UserName));
            output.Result(new { action = "rollback", version = to, previous = current, outcome = ok ? "ok" : "failed" });
            if (!ok)
            {
                output.Error($"Rolled back to {to}, but it did not become ready.");
                return ExitCodes.RollbackFailed;
            }
            output.Good($"Rolled back {current} -> {to}.");
            return ExitCodes.Ok;
        });

        var list = new Command("list", "The releases on disk (current marked) and the last entries of releases.log.");
        list.Options.Add(ToOption);
        io.Handle(list, (parse, output, ct) =>
        {
            var store = new ReleaseStore(parse.GetValue(ToOption)!);
            var current = store.CurrentVersion();
            var releases = store.Versions().Select(v =>
            {
                var manifest = File.Exists(Path.Combine(store.ReleaseDir(v), ReleaseManifest.FileName)) ? ReleaseManifest.Read(store.ReleaseDir(v)) : null;
                return new { version = v, current = v == current, commit = manifest?.Commit, builtAt = manifest?.BuiltAt };
            }).ToList();
            foreach (var r in releases)
            {
                var line = $"{(r.current ? "* " : "  ")}{r.version,-16} {r.commit?[..Math.Min(12, r.commit.Length)],-12} built {r.builtAt:u}";
                if (r.current)
                {
                    output.Good(line);
                }
                else
                {
                    output.Line(line);
                }
            }
            var history = store.History().TakeLast(10).ToList();
            foreach (var h in history)
            {
                output.Line($"    {h.At:u} {h.Action,-13} {h.Version,-12} {h.Outcome,-7}{(h.Emergency ? " EMERGENCY" : "")} {h.Reason}");
            }
            output.Result(new { current, releases, history });
            return Task.FromResult(ExitCodes.Ok);
        });

        release.Subcommands.Add(package);
        release.Subcommands.Add(deploy);
        release.Subcommands.Add(rollback);
        release.Subcommands.Add(list);
        return release;
    }

    private static ReleaseSettings Settings(ReleaseStore store)
    {
        var path = Path.Combine(store.Root, ReleaseStore.SettingsFile);
        return File.Exists(path) ? JsonSerializer.Deserialize<ReleaseSettings>(File.ReadAllText(path), Output.JsonOptions) ?? new() : new();
    }

    private static Uri HealthUrl(ParseResult parse, ReleaseSettings settings)
    {
        var url = parse.GetValue(HealthUrlOption) ?? settings.HealthUrl ?? "http://127.0.0.1:8080";
        return Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var uri)
            ? uri
            : throw new CliException(ExitCodes.Usage, $"--health-url must be a URL, not '{url}'.");
    }

    private static string RestartCommand(ParseResult parse, ReleaseSettings settings) =>
        parse.GetValue(RestartOption) ?? settings.RestartCommand
        ?? throw new CliException(ExitCodes.Usage, $"No restart command: pass --restart-command or set restartCommand in {ReleaseStore.SettingsFile}.");

    private static async Task<int> DeployAsync(
        ReleaseStore store, FileInfo archive, string restart, GateSettings gate, bool allowDestructive, int keep,
        DatabaseTarget database, Output output, CancellationToken cancellationToken)
    {
        if (!archive.Exists)
        {
            throw new CliException(ExitCodes.BadRelease, $"No archive {archive.FullName}.");
        }
        Directory.CreateDirectory(store.ReleasesDir);
        var incoming = Path.Combine(store.ReleasesDir, $".incoming-{Guid.NewGuid():N}");
        Directory.CreateDirectory(incoming);
        ReleaseManifest manifest;
        try
        {
            try
            {
                await using var file = archive.OpenRead();
                await using var gzip = new GZipStream(file, CompressionMode.Decompress);
                await TarFile.ExtractToDirectoryAsync(gzip, incoming, overwriteFiles: false, cancellationToken);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                throw new CliException(ExitCodes.BadRelease, $"{archive.Name} is not a readable release archive: {ex.Message}");
            }
            manifest = ReleaseManifest.Read(incoming);
            var bad = manifest.Verify(incoming);
            if (bad.Count > 0)
            {
                foreach (var b in bad.Take(10))
                {
                    output.Error($"  {b}");
                }
                throw new CliException(ExitCodes.BadRelease, $"{archive.Name}: {bad.Count} file(s) fail verification; nothing was deployed.");
            }
            output.Good($"Verified {manifest.Files.Count} files of {manifest.Version} (commit {manifest.Commit[..Math.Min(12, manifest.Commit.Length)]}, built {manifest.BuiltAt:u}).");
        }
        catch
        {
            Directory.Delete(incoming, recursive: true);
            throw;
        }

        var previous = store.CurrentVersion();
        if (previous == manifest.Version)
        {
            Directory.Delete(incoming, recursive: true);
            throw new CliException(ExitCodes.BadRelease, $"{manifest.Version} is already current; package a new version.");
        }
        var releaseDir = store.ReleaseDir(manifest.Version);
        if (Directory.Exists(releaseDir))
        {
            Directory.Delete(releaseDir, recursive: true);
        }
        Directory.Move(incoming, releaseDir);

        // Migrations the release needs, before the switch: expand-only ones (the running release keeps working with them).
        var applied = new List<MigrationRun>();
        var deferred = new List<DestructiveMigration>();
        ModuleMigrations? migrations = null;
        try
        {
            if (manifest.Migrations.Values.Any(m => m.Length > 0))
            {
                migrations = ModuleMigrations.Open(database);
                var known = migrations.KnownMigrations();
                var unknown = manifest.Migrations.SelectMany(m => m.Value.Where(id => !known.GetValueOrDefault(m.Key, []).Contains(id)).Select(id => $"{m.Key}/{id}")).ToList();
                if (unknown.Count > 0)
                {
                    throw new CliException(ExitCodes.BadRelease,
                        $"The release needs migrations this tool does not know ({string.Join(", ", unknown)}): use the flashmall tool built with the release.");
                }
                output.Line($"Migrations ({migrations.Describe()}):");
                var result = await MigrateFlow.RunAsync(migrations, output, dryRun: false, allowDestructive, expandOnly: true, manifest.Migrations, cancellationToken);
                applied = result.Applied;
                deferred = result.Deferred;
                if (deferred.Count > 0 && !allowDestructive)
                {
                    foreach (var d in deferred)
                    {
                        output.Error($"  {d.Module} {d.Migration}: {string.Join("; ", d.Operations)}");
                    }
                    throw new CliException(ExitCodes.DestructiveRefused,
                        $"The release has {deferred.Count} destructive migration(s); current was not switched. Re-run with --allow-destructive (they then run after the health gate).");
                }
            }

            output.Line($"Switching current: {previous ?? "(none)"} -> {manifest.Version}");
            store.Switch(manifest.Version);
            var gateResult = await RestartAndGateAsync(store, manifest, restart, gate, output, cancellationToken);
            var migrationNames = applied.Select(a => $"{a.Module}/{a.Migration}").ToList();
            if (!gateResult.Passed)
            {
                output.Error($"Health gate FAILED for {manifest.Version}: {gateResult.Reason}");
                if (previous is null)
                {
                    store.Record(new HistoryEntry(DateTimeOffset.UtcNow, "deploy", manifest.Version, null, "failed", gateResult.Reason, gate.Emergency, Environment.UserName, migrationNames, gateResult));
                    output.Result(new { action = "deploy", version = manifest.Version, outcome = "failed", rolledBack = false, gate = gateResult, migrations = applied });
                    output.Error("No previous release to roll back to.");
                    return ExitCodes.RollbackFailed;
                }
                output.Warn($"Rolling back automatically to {previous} …");
                var back = await SwitchAndCheckAsync(store, previous, restart, gate.BaseUrl, gate.ReadyTimeout, output, cancellationToken);
                store.Record(new HistoryEntry(DateTimeOffset.UtcNow, "deploy", manifest.Version, previous, "rolled-back", gateResult.Reason, gate.Emergency, Environment.UserName, migrationNames, gateResult));
                store.Record(new HistoryEntry(DateTimeOffset.UtcNow, "auto-rollback", previous, manifest.Version, back ? "ok" : "failed",
                    $"health gate failed for {manifest.Version}: {gateResult.Reason}", false, Environment.UserName));
                output.Result(new { action = "deploy", version = manifest.Version, outcome = "rolled-back", rolledBack = true, rolledBackTo = previous, rollbackReady = back, gate = gateResult, migrations = applied });
                if (!back)
                {
                    output.Error($"ROLLBACK to {previous} did not become ready: the service needs attention now.");
                    return ExitCodes.RollbackFailed;
                }
                output.Warn($"Rolled back to {previous}: it is ready again. {manifest.Version} stays on disk for inspection.");
                return ExitCodes.RolledBack;
            }

            if (deferred.Count > 0 && migrations is not null)
            {
                output.Line("Contract migrations (after the gate):");
                var later = await MigrateFlow.RunAsync(migrations, output, dryRun: false, allowDestructive: true, expandOnly: false, manifest.Migrations, cancellationToken);
                applied.AddRange(later.Applied);
                migrationNames = [.. applied.Select(a => $"{a.Module}/{a.Migration}")];
            }
            store.Record(new HistoryEntry(DateTimeOffset.UtcNow, "deploy", manifest.Version, previous, "ok", gateResult.Reason, gate.Emergency, Environment.UserName, migrationNames, gateResult));
            var pruned = store.Prune(keep, manifest.Version, previous);
            foreach (var p in pruned)
            {
                output.Line($"  removed old release {p}");
            }
            output.Good($"Deployed {manifest.Version}{(gate.Emergency ? " (EMERGENCY: soak skipped)" : "")}: {gateResult.Reason}.");
            output.Result(new { action = "deploy", version = manifest.Version, previous, outcome = "ok", rolledBack = false, emergency = gate.Emergency, gate = gateResult, migrations = applied, pruned });
            return ExitCodes.Ok;
        }
        finally
        {
            if (migrations is not null)
            {
                await migrations.DisposeAsync();
            }
        }
    }

    private static async Task<GateResult> RestartAndGateAsync(
        ReleaseStore store, ReleaseManifest manifest, string restart, GateSettings gate, Output output, CancellationToken cancellationToken)
    {
        output.Line($"Restarting: {restart}");
        var (code, text) = await ReleaseStore.RestartAsync(restart, store.Root, manifest.Version, manifest.EntryAssembly, TimeSpan.FromMinutes(2), cancellationToken);
        if (code != 0)
        {
            return new GateResult(false, $"the restart command failed (exit {code}): {text}", 0, gate.Emergency, false, 0, 0, null);
        }
        output.Line($"Health gate on {gate.BaseUrl}: ready within {gate.ReadyTimeout.TotalSeconds:F0} s, then {(gate.Emergency ? "no soak (emergency)" : $"{gate.Window.TotalSeconds:F0} s with 5xx <= {gate.MaxErrorRatio:P1} and p99 <= {gate.MaxP99Ms:F0} ms")}");
        return await new HealthGate(gate, output).HoldAsync(cancellationToken);
    }

    private static async Task<bool> SwitchAndCheckAsync(
        ReleaseStore store, string version, string restart, Uri healthUrl, TimeSpan readyTimeout, Output output, CancellationToken cancellationToken)
    {
        var manifest = ReleaseManifest.Read(store.ReleaseDir(version));
        store.Switch(version);
        output.Line($"Switched current -> {version}; restarting: {restart}");
        var (code, text) = await ReleaseStore.RestartAsync(restart, store.Root, version, manifest.EntryAssembly, TimeSpan.FromMinutes(2), cancellationToken);
        if (code != 0)
        {
            output.Error($"The restart command failed (exit {code}): {text}");
            return false;
        }
        var ready = await HealthGate.WaitReadyAsync(healthUrl, readyTimeout, cancellationToken);
        if (ready)
        {
            output.Good($"  {version} is ready");
        }
        return ready;
    }
}
