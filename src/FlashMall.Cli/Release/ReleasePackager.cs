using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.RegularExpressions;
using FlashMall.Cli.Db;

namespace FlashMall.Cli.Release;

/// <summary>
/// <c>release package</c>: a framework-dependent <c>dotnet publish</c> of the server (or
/// <c>--project</c>), a manifest, one <c>flashmall-&lt;version&gt;.tar.gz</c>.
/// </summary>
internal static partial class ReleasePackager
{
    public const string DefaultProject = "src/FlashMall.Server/FlashMall.Server.csproj";

    public static async Task<(string Archive, ReleaseManifest Manifest)> PackageAsync(
        string? version, string? project, string? publishDir, string outputDir, IReadOnlyList<string> properties, string runtime, Output output, CancellationToken cancellationToken)
    {
        var projectPath = Path.GetFullPath(project ?? FindDefaultProject());
        var gitDir = File.Exists(projectPath) ? Path.GetDirectoryName(projectPath)! : Directory.GetCurrentDirectory();
        version ??= await TagVersionAsync(gitDir, cancellationToken)
            ?? throw new CliException(ExitCodes.Usage, "HEAD has no vX.Y.Z tag: tag it (git tag v1.2.3) or pass --version.");
        if (!VersionPattern().IsMatch(version))
        {
            throw new CliException(ExitCodes.Usage, $"The version must look like 1.2.3 or 1.2.3-rc.1, not '{version}'.");
        }
        var commit = (await GitAsync(gitDir, ["rev-parse", "HEAD"], cancellationToken)) ?? "unknown";
        var dirty = !string.IsNullOrEmpty(await GitAsync(gitDir, ["status", "--porcelain", "--untracked-files=no"], cancellationToken));

        var staging = Path.Combine(Path.GetTempPath(), $"flashmall-package-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            if (publishDir is not null)
            {
                if (!Directory.Exists(publishDir))
                {
                    throw new CliException(ExitCodes.Usage, $"No folder {publishDir}.");
                }
                output.Line($"Packaging the published build in {publishDir}");
                CopyDirectory(publishDir, staging);
            }
            else
            {
                if (!File.Exists(projectPath))
                {
                    throw new CliException(ExitCodes.Usage, $"No project {projectPath}: run from the repository root or pass --project.");
                }
                output.Line($"Publishing {Path.GetFileName(projectPath)} {version} (Release, framework-dependent, {runtime}) …");
                var started = Stopwatch.GetTimestamp();
                // For one runtime: the native libraries of the others (SkiaSharp's Windows builds: ~300 MB) stay out.
                string[] rid = runtime == "any" ? [] : ["-r", runtime, "--self-contained", "false"];
                string[] args = ["publish", projectPath, "-c", "Release", "-o", staging, "--nologo", "-v", "quiet", "-p:UseAppHost=false", .. rid,
                    $"-p:Version={version}", $"-p:SourceRevisionId={commit}", .. properties.Select(p => $"-p:{p}")];
                var (code, text) = await RunAsync("dotnet", args, gitDir, cancellationToken);
                if (code != 0)
                {
                    throw new CliException(ExitCodes.Failed, $"dotnet publish failed (exit {code}):{Environment.NewLine}{text}");
                }
                output.Good($"  published in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
            }
            var entry = Directory.GetFiles(staging, "*.runtimeconfig.json").Select(f => Path.GetFileName(f).Replace(".runtimeconfig.json", ".dll", StringComparison.Ordinal)).FirstOrDefault()
                ?? throw new CliException(ExitCodes.Failed, "The published build has no *.runtimeconfig.json: not a runnable .NET app.");
            // The server's migrations are the ones this tool is built with (same source tree).
            Dictionary<string, string[]> migrations = [];
            if (entry == "FlashMall.Server.dll")
            {
                await using var known = ModuleMigrations.Open(new DatabaseTarget());
                migrations = known.KnownMigrations();
            }
            var manifest = new ReleaseManifest(version, commit, dirty, DateTimeOffset.UtcNow, Path.GetFileName(projectPath), entry, migrations,
                ReleaseManifest.Checksums(staging));
            manifest.Write(staging);

            Directory.CreateDirectory(outputDir);
            var archive = Path.GetFullPath(Path.Combine(outputDir, $"flashmall-{version}.tar.gz"));
            await using (var file = File.Create(archive))
            await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
            {
                await TarFile.CreateFromDirectoryAsync(staging, gzip, includeBaseDirectory: false, cancellationToken);
            }
            output.Good($"Packaged {archive} ({new FileInfo(archive).Length / 1024 / 1024.0:F1} MB, {manifest.Files.Count} files, {migrations.Values.Sum(m => m.Length)} migrations, commit {commit[..Math.Min(12, commit.Length)]}{(dirty ? " dirty" : "")})");
            return (archive, manifest);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private static string FindDefaultProject()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, DefaultProject);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return DefaultProject;
    }

    private static async Task<string?> TagVersionAsync(string dir, CancellationToken cancellationToken)
    {
        var tag = await GitAsync(dir, ["describe", "--tags", "--exact-match", "--match", "v[0-9]*"], cancellationToken);
        return tag is { Length: > 1 } && tag[0] == 'v' ? tag[1..] : null;
    }

    private static async Task<string?> GitAsync(string dir, string[] args, CancellationToken cancellationToken)
    {
        try
        {
            var (code, text) = await RunAsync("git", args, dir, cancellationToken);
            return code == 0 ? text.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no git on this machine
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args, string dir, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    public static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
        }
    }

    [GeneratedRegex(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")]
    private static partial Regex VersionPattern();
}
