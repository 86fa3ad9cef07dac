using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using FlashMall.ApiTests.Infrastructure;

namespace FlashMall.ApiTests;

/// <summary>
/// The load-balancer configurations under deploy/: each passes its own tool's check, and HAProxy's
/// path rules send every endpoint of the endpoint table to a node of its traffic class.
/// </summary>
public sealed partial class DeployConfigTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    private static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "FlashMall.slnx")))
            {
                directory = directory.Parent;
            }
            return directory?.FullName ?? throw new InvalidOperationException("FlashMall.slnx not found above the test binaries");
        }
    }

    private static string Tool(string name) =>
        new[] { $"/usr/sbin/{name}", $"/usr/bin/{name}" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{name} is not installed (test.sh installs the Debian package)");

    [Fact]
    public async Task The_haproxy_configuration_passes_haproxy_check()
    {
        var (exit, output) = await RunAsync(Tool("haproxy"), TimeSpan.FromSeconds(30), "-c", "-f", Path.Combine(RepositoryRoot, "deploy/haproxy/haproxy.cfg"));
        Assert.True(exit == 0, output);
        Assert.Contains("Configuration file is valid", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_nginx_configuration_passes_nginx_test()
    {
        var prefix = Directory.CreateTempSubdirectory("flashmall-nginx-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(prefix, "logs"));
            var (exit, output) = await RunAsync(Tool("nginx"), TimeSpan.FromSeconds(30),
                "-t", "-p", prefix + "/", "-e", Path.Combine(prefix, "logs/error.log"), "-c", Path.Combine(RepositoryRoot, "deploy/nginx/nginx.conf"));
            Assert.True(exit == 0, output);
            Assert.Contains("test is successful", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(prefix, recursive: true);
        }
    }

    [Fact]
    public async Task Haproxy_routes_every_endpoint_to_a_node_of_its_class()
    {
        var endpoints = TrafficClassTests.Endpoints(factory);
        var work = Directory.CreateTempSubdirectory("flashmall-lb-").FullName;
        var processes = new List<Process>();
        try
        {
            var corePort = FreePort();
            var nonCorePort = FreePort();
            var proxyPort = FreePort();
            processes.Add(StartNode("core", corePort, Path.Combine(work, "core")));
            processes.Add(StartNode("noncore", nonCorePort, Path.Combine(work, "noncore")));

            var config = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot, "deploy/haproxy/haproxy.cfg"));
            config = config.Replace("bind :8080", $"bind 127.0.0.1:{proxyPort}", StringComparison.Ordinal);
            config = CoreServers().Replace(config, $"server core-1 127.0.0.1:{corePort} inter 200ms\n");
            config = NonCoreServers().Replace(config, $"server noncore-1 127.0.0.1:{nonCorePort} inter 200ms\n");
            config = config.Replace("log stdout format raw local0 info", "", StringComparison.Ordinal);
            config = config.Replace("maxconn 20000", "maxconn 1000", StringComparison.Ordinal); // within a test runner's file-descriptor limit
            var configPath = Path.Combine(work, "haproxy.cfg");
            await File.WriteAllTextAsync(configPath, config);
            processes.Add(Start(Tool("haproxy"), "-db", "-f", configPath));

            using var proxy = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{proxyPort}"), Timeout = TimeSpan.FromSeconds(30) };
            using var coreNode = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{corePort}") };
            // Both clusters up (nodes migrated and HAProxy's health checks passed).
            await LedgerScenarios.EventuallyAsync(async () => await StatusAsync(proxy, "/api/products") == HttpStatusCode.OK
                && await StatusAsync(proxy, "/api/flash-sales") == HttpStatusCode.OK, "both clusters behind HAProxy answering", seconds: 90);
            // The nodes do run their roles: the core node refuses a non-core path sent to it directly.
            Assert.Equal(HttpStatusCode.MisdirectedRequest, await StatusAsync(coreNode, "/api/products"));

            var misrouted = new List<string>();
            foreach (var (_, method, pattern, accepts) in endpoints)
            {
                using var response = await proxy.SendAsync(TrafficClassTests.RequestFor(method, pattern, accepts));
                // 421: the node does not serve it; 502/503 not from a node (no problem body): no node took it.
                if (response.StatusCode == HttpStatusCode.MisdirectedRequest
                    || (response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway
                        && response.Content.Headers.ContentType?.MediaType != "application/problem+json"))
                {
                    misrouted.Add($"{method} {pattern} → {(int)response.StatusCode}");
                }
            }
            Assert.Empty(misrouted);
        }
        finally
        {
            foreach (var process in processes)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
                catch (InvalidOperationException)
                {
                    // Already exited.
                }
                process.Dispose();
            }
            Directory.Delete(work, recursive: true);
        }
    }

    [GeneratedRegex(@"server core-1 .*\n\s*server core-2 .*\n")]
    private static partial Regex CoreServers();

    [GeneratedRegex(@"server noncore-1 .*\n\s*server noncore-2 .*\n")]
    private static partial Regex NonCoreServers();

    private static async Task<HttpStatusCode?> StatusAsync(HttpClient client, string path)
    {
        try
        {
            using var response = await client.GetAsync(path);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process StartNode(string role, int port, string dataDirectory) =>
        Start("dotnet", Path.Combine(AppContext.BaseDirectory, "FlashMall.Server.dll"), "--role", role,
            $"--urls=http://127.0.0.1:{port}", $"--Data:Directory={dataDirectory}", "--Demo:Seed=false", "--RateLimiting:Enabled=false");

    private static Process Start(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        var process = Process.Start(start)!;
        // Drain the output so a chatty process never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<(int Exit, string Output)> RunAsync(string file, TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await output + await error);
    }
}
