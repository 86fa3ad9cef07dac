using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FlashMall.ApiTests.Infrastructure;

/// <summary>
/// A redis-server of one test's own (the Debian package test.sh installs), without persistence,
/// on a free loopback port: a test may restart it without disturbing the tests sharing the run's Redis.
/// </summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flashmall-tests", $"redis-{Guid.NewGuid():N}");

    private PrivateRedis(int port) => Port = port;

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<PrivateRedis> StartAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var redis = new PrivateRedis(port);
        Directory.CreateDirectory(redis._directory);
        await redis.StartServerAsync();
        return redis;
    }

    /// <summary>Stops the server without saving and starts it again, empty, on the same port.</summary>
    public async Task RestartEmptyAsync()
    {
        await StopAsync();
        await StartServerAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StartServerAsync()
    {
        await RunAsync("redis-server", "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--save", "", "--appendonly", "no", "--daemonize", "yes", "--dir", _directory,
            "--pidfile", Path.Combine(_directory, "redis.pid"), "--logfile", Path.Combine(_directory, "redis.log"));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await Cli("ping") != "PONG")
        {
            Assert.True(DateTime.UtcNow < deadline, $"redis-server on port {Port} did not answer PONG in 10 s");
            await Task.Delay(50);
        }
    }

    private async Task StopAsync()
    {
        var pidFile = Path.Combine(_directory, "redis.pid");
        await Cli("shutdown", "nosave");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (File.Exists(pidFile) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }

    private Task<string> Cli(params string[] arguments) =>
        RunAsync("redis-cli", ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. arguments]);

    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Trim();
    }
}
