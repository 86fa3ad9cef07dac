using System.Text.Json;
using FlashMall.Cli;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace FlashMall.CliTests.Infrastructure;

/// <summary>What one run of the tool printed and returned.</summary>
public sealed record ToolRun(int ExitCode, string Stdout, string Stderr)
{
    public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;

    public string All => Stdout + Stderr;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs <c>flashmall</c> in-process through its entry point, as the executable does.</summary>
public static class Tool
{
    public static async Task<ToolRun> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr);
        return new ToolRun(code, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>The repository and the build configuration these tests were built with.</summary>
public static class Repo
{
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FlashMall.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("FlashMall.slnx not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temp folder removed at the end of the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("flashmall-cli-").FullName;

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
