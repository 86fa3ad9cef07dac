using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace FlashMall.Cli.Release;

/// <summary>One line of <c>&lt;dir&gt;/releases.log</c> (JSON lines): every deploy, rollback and automatic rollback.</summary>
internal sealed record HistoryEntry(
    DateTimeOffset At, string Action, string Version, string? Previous, string Outcome, string Reason,
    bool Emergency, string User, IReadOnlyList<string>? Migrations = null, GateResult? Gate = null);

/// <summary>
/// The deploy folder: <c>releases/&lt;version&gt;/</c> (one unpacked release each), <c>current</c> (a
/// symlink to one of them, switched atomically by renaming a new symlink over it), <c>releases.log</c>
/// (the audit of every switch) and optionally <c>flashmall-release.json</c> (defaults for the options).
/// </summary>
internal sealed partial class ReleaseStore(string root)
{
    public const string HistoryFile = "releases.log";
    public const string SettingsFile = "flashmall-release.json";

    private static readonly JsonSerializerOptions CompactJson = new(Output.JsonOptions) { WriteIndented = false };

    public string Root { get; } = Path.GetFullPath(root);

    public string ReleasesDir => Path.Combine(Root, "releases");

    public string CurrentLink => Path.Combine(Root, "current");

    public string ReleaseDir(string version) => Path.Combine(ReleasesDir, version);

    /// <summary>The version <c>current</c> points at; null before the first deploy.</summary>
    public string? CurrentVersion()
    {
        var info = new FileInfo(CurrentLink);
        return info.LinkTarget is { } target ? Path.GetFileName(target.TrimEnd('/')) : null;
    }

    /// <summary>Points <c>current</c> at <paramref name="version"/>: a new symlink renamed over the old (rename(2) is atomic).</summary>
    public void Switch(string version)
    {
        if (!Directory.Exists(ReleaseDir(version)))
        {
            throw new CliException(ExitCodes.BadRelease, $"No release {version} under {ReleasesDir}.");
        }
        var temp = Path.Combine(Root, $".current-{Guid.NewGuid():N}");
        File.CreateSymbolicLink(temp, Path.Combine("releases", version));
        if (Rename(temp, CurrentLink) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            File.Delete(temp);
            throw new IOException($"rename {temp} -> {CurrentLink} failed (errno {errno}).");
        }
    }

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Rename(string oldPath, string newPath);

    public List<HistoryEntry> History()
    {
        var path = Path.Combine(Root, HistoryFile);
        return File.Exists(path)
            ? [.. File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<HistoryEntry>(l, Output.JsonOptions)!)]
            : [];
    }

    public void Record(HistoryEntry entry)
    {
        var line = JsonSerializer.Serialize(entry, CompactJson);
        File.AppendAllText(Path.Combine(Root, HistoryFile), line + "\n");
    }

    /// <summary>Release folders, newest deploy first (by the time they were unpacked).</summary>
    public List<string> Versions() => Directory.Exists(ReleasesDir)
        ? [.. new DirectoryInfo(ReleasesDir).GetDirectories().Where(d => !d.Name.StartsWith('.')).OrderByDescending(d => d.CreationTimeUtc).ThenByDescending(d => d.LastWriteTimeUtc).Select(d => d.Name)]
        : [];

    /// <summary>The release to go back to: the last one that was live before <paramref name="current"/> and is still on disk.</summary>
    public string? PreviousOf(string? current)
    {
        foreach (var entry in History().AsEnumerable().Reverse())
        {
            if (entry.Outcome == "ok" && entry.Version != current && Directory.Exists(ReleaseDir(entry.Version)))
            {
                return entry.Version;
            }
        }
        return null;
    }

    /// <summary>Deletes the oldest releases beyond <paramref name="keep"/>, never <paramref name="protect"/>ed ones.</summary>
    public List<string> Prune(int keep, params string?[] protect)
    {
        var removed = new List<string>();
        var live = History().Where(h => h.Outcome == "ok").Select(h => h.Version).Reverse().Distinct().ToList();
        var ordered = Versions().OrderBy(v => live.IndexOf(v) is var i && i < 0 ? int.MaxValue : i).ToList();
        foreach (var version in ordered.Skip(Math.Max(keep, 1)))
        {
            if (protect.Contains(version))
            {
                continue;
            }
            Directory.Delete(ReleaseDir(version), recursive: true);
            removed.Add(version);
        }
        return removed;
    }

    /// <summary>Runs the restart command through <c>/bin/sh -c</c> with the release in its environment.</summary>
    public static async Task<(int ExitCode, string Output)> RestartAsync(
        string command, string root, string version, string entryAssembly, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = root,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        start.Environment["FLASHMALL_CURRENT"] = Path.Combine(root, "current");
        start.Environment["FLASHMALL_RELEASE_VERSION"] = version;
        start.Environment["FLASHMALL_RELEASE_DIR"] = Path.Combine(root, "releases", version);
        start.Environment["FLASHMALL_ENTRY"] = entryAssembly;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("The restart command did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"the restart command did not finish within {timeout.TotalSeconds:F0} s");
        }
        // A service the command started in the background may hold the pipes open: don't wait for their end.
        await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(TimeSpan.FromSeconds(2), cancellationToken));
        var text = (stdout.IsCompletedSuccessfully ? stdout.Result : "") + (stderr.IsCompletedSuccessfully ? stderr.Result : "");
        return (process.ExitCode, text.Trim());
    }
}
