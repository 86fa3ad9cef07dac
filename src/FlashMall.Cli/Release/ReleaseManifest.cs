using System.Security.Cryptography;
using System.Text.Json;

namespace FlashMall.Cli.Release;

/// <summary>
/// <c>release-manifest.json</c>, at the root of every release archive and release folder: what the
/// release is, where it came from, a SHA-256 of every other file, and the migrations it needs.
/// </summary>
internal sealed record ReleaseManifest(
    string Version,
    string Commit,
    bool Dirty,
    DateTimeOffset BuiltAt,
    string Project,
    string EntryAssembly,
    Dictionary<string, string[]> Migrations,
    SortedDictionary<string, string> Files)
{
    public const string FileName = "release-manifest.json";

    public static ReleaseManifest Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new CliException(ExitCodes.BadRelease, $"{FileName} is missing: not a flashmall release.");
        }
        return JsonSerializer.Deserialize<ReleaseManifest>(File.ReadAllText(path), Output.JsonOptions)
            ?? throw new CliException(ExitCodes.BadRelease, $"{FileName} is empty.");
    }

    public void Write(string directory) => File.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, Output.JsonOptions));

    /// <summary>SHA-256 (hex) of every file under <paramref name="directory"/> but the manifest, by relative path with '/'.</summary>
    public static SortedDictionary<string, string> Checksums(string directory)
    {
        var sums = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(directory, file).Replace('\\', '/');
            if (relative == FileName)
            {
                continue;
            }
            using var stream = File.OpenRead(file);
            sums[relative] = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        return sums;
    }

    /// <summary>The files whose content differs from the manifest, are missing, or were not in it.</summary>
    public List<string> Verify(string directory)
    {
        var actual = Checksums(directory);
        var bad = new List<string>();
        foreach (var (file, sum) in Files)
        {
            if (!actual.TryGetValue(file, out var got))
            {
                bad.Add($"{file}: missing");
            }
            else if (!string.Equals(got, sum, StringComparison.OrdinalIgnoreCase))
            {
                bad.Add($"{file}: checksum mismatch");
            }
        }
        bad.AddRange(actual.Keys.Where(f => !Files.ContainsKey(f)).Select(f => $"{f}: not in the manifest"));
        return bad;
    }
}
