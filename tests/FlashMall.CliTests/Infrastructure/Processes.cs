using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FlashMall.CliTests.Infrastructure;

public static class Ports
{
    /// <summary>A free loopback port (bound then released).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Shared, built once per test run: a publish of the server, and the test app's release archives.</summary>
public static class Builds
{
    private static readonly Lazy<Task<string>> ServerPublishTask = new(PublishServerAsync);
    private static readonly SemaphoreSlim PackageLock = new(1, 1);
    private static readonly Dictionary<string, string> TestAppArchives = [];
    private static string? _testAppPublish;
    private static readonly string Scratch = CreateScratch();

    /// <summary>
    /// One folder per test process (~250 MB of publishes and archives), named by its pid; a run
    /// removes it at exit and first sweeps those of earlier runs whose process is gone.
    /// </summary>
    private static string CreateScratch()
    {
        foreach (var stale in Directory.GetDirectories(Path.GetTempPath(), "flashmall-cli-builds-*"))
        {
            if (int.TryParse(Path.GetFileName(stale)["flashmall-cli-builds-".Length..], out var pid) && !Alive(pid))
            {
                TryDelete(stale);
            }
        }
        var scratch = Path.Combine(Path.GetTempPath(), $"flashmall-cli-builds-{Environment.ProcessId}");
        TryDelete(scratch);
        Directory.CreateDirectory(scratch);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(scratch);
        return scratch;
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public const string TestAppProject = "tests/FlashMall.CliTests.TestApp/FlashMall.CliTests.TestApp.csproj";

    /// <summary>The server, published once (from this run's build: <c>--no-build</c>).</summary>
    public static Task<string> ServerPublishAsync() => ServerPublishTask.Value;

    /// <summary>
    /// The test app packaged by the tool as <paramref name="version"/> in <paramref name="mode"/> (ok, notready, fail500).
    /// Published once (<c>release package --project</c>, the first call); the other modes repackage that
    /// publish with a <c>testapp-mode.txt</c> (<c>release package --publish-dir</c>).
    /// </summary>
    public static async Task<string> TestAppArchiveAsync(string version, string mode)
    {
        await PackageLock.WaitAsync();
        try
        {
            if (TestAppArchives.TryGetValue(version, out var existing))
            {
                return existing;
            }
            var output = Path.Combine(Scratch, "archives");
            ToolRun run;
            if (TestAppArchives.Count == 0)
            {
                run = await Tool.RunAsync("release", "package", "--project", Path.Combine(Repo.Root, TestAppProject),
                    "--version", version, "--output", output, "--json");
                Assert.True(run.ExitCode == 0, run.ToString());
                var first = run.Json.GetProperty("archive").GetString()!;
                _testAppPublish = Path.Combine(Scratch, "testapp");
                Directory.CreateDirectory(_testAppPublish);
                await using (var file = File.OpenRead(first))
                await using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress))
                {
                    await System.Formats.Tar.TarFile.ExtractToDirectoryAsync(gzip, _testAppPublish, overwriteFiles: true);
                }
                File.Delete(Path.Combine(_testAppPublish, "release-manifest.json"));
                if (mode == "ok")
                {
                    TestAppArchives[version] = first;
                    return first;
                }
            }
            File.WriteAllText(Path.Combine(_testAppPublish!, "testapp-mode.txt"), mode);
            run = await Tool.RunAsync("release", "package", "--publish-dir", _testAppPublish!, "--version", version, "--output", output, "--json");
            Assert.True(run.ExitCode == 0, run.ToString());
            var archive = run.Json.GetProperty("archive").GetString()!;
            TestAppArchives[version] = archive;
            return archive;
        }
        finally
        {
            PackageLock.Release();
        }
    }

    private static async Task<string> PublishServerAsync()
    {
        var output = Path.Combine(Scratch, "server");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repo.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "publish", "src/FlashMall.Server/FlashMall.Server.csproj", "-c", Repo.Configuration, "--no-build", "--nologo", "-o", output })
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"dotnet publish failed:\n{await stdout}\n{await stderr}");
        // The portable build carries every platform's native libraries (~500 MB, SkiaSharp's Windows ones
        // mostly); what `release package` publishes for one runtime leaves out the same folders.
        foreach (var other in Directory.GetDirectories(Path.Combine(output, "runtimes")).Where(d => !Path.GetFileName(d).StartsWith("linux", StringComparison.Ordinal)))
        {
            Directory.Delete(other, recursive: true);
        }
        return output;
    }
}

/// <summary>A server process this test started (ended by its own pid).</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<ServerProcess> StartAsync(string publishDir, IDictionary<string, string> environment, string logFile)
    {
        var port = Ports.Free();
        var url = new Uri($"http://127.0.0.1:{port}/");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = publishDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(publishDir, "FlashMall.Server.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(url.ToString().TrimEnd('/'));
        foreach (var (k, v) in environment)
        {
            start.Environment[k] = v;
        }
        var process = Process.Start(start)!;
        var log = new StreamWriter(logFile) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, url);
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            Assert.False(process.HasExited, $"the server exited: {File.ReadAllText(logFile)}");
            try
            {
                if ((await http.GetAsync("health/ready")).StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        await server.DisposeAsync();
        throw new TimeoutException("the server did not become ready");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

/// <summary>A fact that needs PostgreSQL: skipped (visibly) without <c>FLASHMALL_TEST_POSTGRES</c>, which test.sh sets.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public static string? ConnectionString => Environment.GetEnvironmentVariable("FLASHMALL_TEST_POSTGRES") is { Length: > 0 } c ? c : null;

    public PostgresFactAttribute()
    {
        if (ConnectionString is null)
        {
            Skip = "FLASHMALL_TEST_POSTGRES is not set (./test.sh sets it)";
        }
    }
}
