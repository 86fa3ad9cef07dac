using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using FlashMall.CliTests.Infrastructure;

namespace FlashMall.CliTests;

/// <summary>
/// A deploy folder in a temp dir and a restart script (written here) that stops the process it
/// started last and starts <c>current</c> on a fixed loopback port: what systemd does in production.
/// </summary>
internal sealed class DeployTarget : IDisposable
{
    private readonly TempDir _temp = new();

    public DeployTarget(IDictionary<string, string>? environment = null)
    {
        Port = Ports.Free();
        Url = new Uri($"http://127.0.0.1:{Port}/");
        Directory.CreateDirectory(Root);
        var exports = string.Join("\n", (environment ?? new Dictionary<string, string>()).Select(e => $"export {e.Key}='{e.Value}'"));
        File.WriteAllText(RestartScript, $"""
            #!/bin/sh
            # Test restart: stop what we started last (by pid), start the current release.
            PIDFILE='{Root}/service.pid'
            if [ -f "$PIDFILE" ]; then
              pid=$(cat "$PIDFILE")
              if kill "$pid" 2>/dev/null; then
                i=0
                while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
                kill -9 "$pid" 2>/dev/null || true
              fi
              rm -f "$PIDFILE"
            fi
            cd "$FLASHMALL_CURRENT" || exit 1
            {exports}
            nohup dotnet "$FLASHMALL_CURRENT/$FLASHMALL_ENTRY" --urls 'http://127.0.0.1:{Port}' >>'{Root}/service.log' 2>&1 </dev/null &
            echo $! >"$PIDFILE"
            """.Replace("\r", "", StringComparison.Ordinal));
    }

    public string Root => _temp["deploy"];

    public string Data => _temp["data"];

    public int Port { get; }

    public Uri Url { get; }

    public string RestartScript => _temp["restart.sh"];

    public string[] Options(double gateSeconds, int readyTimeout = 60) =>
        ["--to", Root, "--restart-command", $"/bin/sh '{RestartScript}'", "--health-url", Url.ToString(), "--gate-seconds",
            gateSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--ready-timeout", readyTimeout.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"];

    public int? Pid => File.Exists(Path.Combine(Root, "service.pid")) && int.TryParse(File.ReadAllText(Path.Combine(Root, "service.pid")).Trim(), out var pid) ? pid : null;

    public string CurrentTarget => new FileInfo(Path.Combine(Root, "current")).LinkTarget!;

    public List<JsonElement> History() =>
        [.. File.ReadAllLines(Path.Combine(Root, "releases.log")).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement)];

    public void Dispose()
    {
        if (Pid is { } pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }
        _temp.Dispose();
    }
}

/// <summary>Traffic against the deployed service during a gate, as users would send it.</summary>
internal sealed class Traffic : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public Traffic(Uri url, string path)
    {
        _loop = Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(2) };
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var _ = await http.GetAsync(path, _stop.Token);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                }
                await Task.Delay(20, CancellationToken.None);
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}

public sealed class ReleaseTests
{
    private static async Task<JsonElement> GetJsonAsync(Uri url, string path)
    {
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(5) };
        using var response = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task The_server_release_answers_from_current_and_its_migrations_run_exactly_once_across_two_deploys()
    {
        var publish = await Builds.ServerPublishAsync();
        using var temp = new TempDir();
        using var target = new DeployTarget(new Dictionary<string, string>
        {
            // The server does not migrate itself: what the tool applied before the switch must be enough.
            ["Data__Directory"] = "DATA",
            ["Database__MigrateOnStart"] = "false",
            ["RateLimiting__Enabled"] = "false",
        });
        File.WriteAllText(target.RestartScript, File.ReadAllText(target.RestartScript).Replace("'DATA'", $"'{target.Data}'", StringComparison.Ordinal));
        string[] db = ["--provider", "Sqlite", "--data-dir", target.Data];

        var v1 = await Tool.RunAsync("release", "package", "--publish-dir", publish, "--version", "1.0.0", "--output", temp["out"], "--json");
        Assert.True(v1.ExitCode == 0, v1.ToString());
        var migrationsInManifest = v1.Json.GetProperty("migrations").EnumerateObject().Sum(m => m.Value.GetArrayLength());
        Assert.True(migrationsInManifest >= 20, v1.ToString());
        var v2 = await Tool.RunAsync("release", "package", "--publish-dir", publish, "--version", "1.1.0", "--output", temp["out"], "--json");
        Assert.True(v2.ExitCode == 0, v2.ToString());

        var first = await Tool.RunAsync(["release", "deploy", v1.Json.GetProperty("archive").GetString()!, .. target.Options(2), .. db]);
        Assert.True(first.ExitCode == 0, first.ToString() + File.ReadAllText(Path.Combine(target.Root, "service.log")));
        Assert.Equal(migrationsInManifest, first.Json.GetProperty("migrations").GetArrayLength());
        Assert.Equal("releases/1.0.0", target.CurrentTarget);
        Assert.True((await GetJsonAsync(target.Url, "api/categories")).ValueKind == JsonValueKind.Array);
        var cmdline = File.ReadAllText($"/proc/{target.Pid}/cmdline").Replace('\0', ' ');
        Assert.Contains(Path.Combine(target.Root, "current", "FlashMall.Server.dll"), cmdline, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(target.Root, "releases", "1.0.0", "release-manifest.json")));

        var second = await Tool.RunAsync(["release", "deploy", v2.Json.GetProperty("archive").GetString()!, .. target.Options(2), .. db]);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(0, second.Json.GetProperty("migrations").GetArrayLength());
        Assert.Equal("releases/1.1.0", target.CurrentTarget);
        using (var http = new HttpClient { BaseAddress = target.Url })
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/ready")).StatusCode);
        }
        var status = await Tool.RunAsync(["db", "status", "--json", .. db]);
        Assert.Equal(0, status.ExitCode);
        Assert.Equal(migrationsInManifest, status.Json.GetProperty("modules").EnumerateArray().Sum(m => m.GetProperty("applied").GetArrayLength()));

        var list = await Tool.RunAsync("release", "list", "--to", target.Root, "--json");
        Assert.Equal("1.1.0", list.Json.GetProperty("current").GetString());
        Assert.Equal(["1.0.0", "1.1.0"], list.Json.GetProperty("releases").EnumerateArray().Select(r => r.GetProperty("version").GetString()).Order());
        Assert.Equal(["deploy", "deploy"], target.History().Select(h => h.GetProperty("action").GetString()));
    }

    [Fact]
    public async Task Broken_releases_roll_back_by_themselves_and_an_emergency_release_skips_the_soak_but_never_readiness()
    {
        var good = await Builds.TestAppArchiveAsync("2.0.0", "ok");
        var notReady = await Builds.TestAppArchiveAsync("2.1.0", "notready");
        var failing = await Builds.TestAppArchiveAsync("2.2.0", "fail500");
        using var target = new DeployTarget();
        await using var traffic = new Traffic(target.Url, "api/hello");

        var deployed = await Tool.RunAsync(["release", "deploy", good, .. target.Options(3)]);
        Assert.True(deployed.ExitCode == 0, deployed.ToString());
        Assert.Equal("2.0.0", (await GetJsonAsync(target.Url, "version")).GetProperty("version").GetString());
        Assert.True(deployed.Json.GetProperty("gate").GetProperty("requests").GetInt64() > 0, deployed.ToString());

        // Never ready: the gate fails on readiness and the tool switches back on its own.
        var clock = Stopwatch.StartNew();
        var unready = await Tool.RunAsync(["release", "deploy", notReady, .. target.Options(20, readyTimeout: 5)]);
        Assert.True(unready.ExitCode == 6, unready.ToString());
        Assert.True(unready.Json.GetProperty("rolledBack").GetBoolean());
        Assert.Equal("2.0.0", unready.Json.GetProperty("rolledBackTo").GetString());
        Assert.Contains("/health/ready did not answer 200", unready.Json.GetProperty("gate").GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("Rolling back automatically to 2.0.0", unready.Stderr, StringComparison.Ordinal);
        Assert.Equal("releases/2.0.0", target.CurrentTarget);
        Assert.Equal("2.0.0", (await GetJsonAsync(target.Url, "version")).GetProperty("version").GetString());

        // Answers 500s: the 5xx ratio from /metrics fails the gate well within its 20 s window.
        clock.Restart();
        var erroring = await Tool.RunAsync(["release", "deploy", failing, .. target.Options(20)]);
        Assert.True(erroring.ExitCode == 6, erroring.ToString());
        var gate = erroring.Json.GetProperty("gate");
        Assert.Contains("5xx ratio", gate.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.True(gate.GetProperty("seconds").GetDouble() < 20, erroring.ToString());
        Assert.True(gate.GetProperty("errorRatio").GetDouble() > 0.5);
        Assert.Equal("2.0.0", (await GetJsonAsync(target.Url, "version")).GetProperty("version").GetString());

        // The audit: each failed deploy and its automatic rollback.
        var history = target.History();
        Assert.Equal(["deploy:2.0.0:ok", "deploy:2.1.0:rolled-back", "auto-rollback:2.0.0:ok", "deploy:2.2.0:rolled-back", "auto-rollback:2.0.0:ok"],
            history.Select(h => $"{h.GetProperty("action").GetString()}:{h.GetProperty("version").GetString()}:{h.GetProperty("outcome").GetString()}"));

        // --emergency skips the soak window, never readiness: the unready release still rolls back.
        var emergencyUnready = await Tool.RunAsync(["release", "deploy", notReady, "--emergency", .. target.Options(20, readyTimeout: 5)]);
        Assert.True(emergencyUnready.ExitCode == 6, emergencyUnready.ToString());
        Assert.Equal("2.0.0", (await GetJsonAsync(target.Url, "version")).GetProperty("version").GetString());

        // ... while the release that answers 500s but is ready goes live at once, recorded as an emergency.
        clock.Restart();
        var emergency = await Tool.RunAsync(["release", "deploy", failing, "--emergency", "--keep", "2", .. target.Options(20)]);
        Assert.True(emergency.ExitCode == 0, emergency.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.True(emergency.Json.GetProperty("emergency").GetBoolean());
        Assert.True(emergency.Json.GetProperty("gate").GetProperty("soakSkipped").GetBoolean());
        Assert.True(target.History()[^1].GetProperty("emergency").GetBoolean());
        Assert.Equal("2.2.0", (await GetJsonAsync(target.Url, "version")).GetProperty("version").GetString());
        // --keep 2: the current and the previous release stay, the others are removed.
        Assert.Equal(["2.0.0", "2.2.0"], Directory.GetDirectories(Path.Combine(target.Root, "releases")).Select(Path.GetFileName).Order());

        // Rollback by hand returns to the release live before.
        var back = await Tool.RunAsync("release", "rollback", "--to", target.Root, "--restart-command", $"/bin/sh '{target.RestartScript}'",
            "--health-url", target.Url.ToString(), "--reason", "drill", "--json");
        Assert.True(back.ExitCode == 0, back.ToString());
        Assert.Equal("2.0.0", back.Json.GetProperty("version").GetString());
        Assert.Equal("2.0.0", (await GetJsonAsync(target.Url, "version")).GetProperty("version").GetString());
        Assert.Equal("rollback", target.History()[^1].GetProperty("action").GetString());
    }

    [Fact]
    public async Task An_archive_whose_files_do_not_match_the_manifest_is_refused_and_nothing_changes()
    {
        var good = await Builds.TestAppArchiveAsync("2.0.0", "ok");
        using var temp = new TempDir();
        var tampered = temp["flashmall-2.0.0.tar.gz"];
        await using (var input = new GZipStream(File.OpenRead(good), CompressionMode.Decompress))
        await using (var output = new GZipStream(File.Create(tampered), CompressionLevel.Fastest))
        {
            using var reader = new TarReader(input);
            using var writer = new TarWriter(output, TarEntryFormat.Pax);
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                if (entry.Name.EndsWith("FlashMall.CliTests.TestApp.dll", StringComparison.Ordinal) && entry.DataStream is { } data)
                {
                    var bytes = new MemoryStream();
                    data.CopyTo(bytes);
                    bytes.WriteByte(0);
                    bytes.Position = 0;
                    entry.DataStream = bytes;
                }
                writer.WriteEntry(entry);
            }
        }
        using var target = new DeployTarget();
        var run = await Tool.RunAsync(["release", "deploy", tampered, .. target.Options(1)]);
        Assert.True(run.ExitCode == 7, run.ToString());
        Assert.Contains("FlashMall.CliTests.TestApp.dll: checksum mismatch", run.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(target.Root, "current")));
        Assert.Empty(Directory.GetDirectories(Path.Combine(target.Root, "releases")));
        Assert.Null(target.Pid);
    }
}
