using System.Diagnostics;


namespace FlashMall.ApiTests;

/// <summary>
/// A bad configuration stops the real server process at start-up with exit code 2 and one clear
/// message naming the key, not a stack trace (run as a process: what an operator sees).
/// </summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("--Database:Provider=Oracle", "Database:Provider")]
    [InlineData("--Database:Provider=Postgres", "ConnectionStrings:Postgres")]
    [InlineData("--Jwt:AccessTokenLifetime=30.00:00:00", "AccessTokenLifetime")]
    [InlineData("--Jwt:SigningKey=c2hvcnQ=", "Jwt:SigningKey")]
    [InlineData("--Accounts:PasswordHashIterations=1000", "PasswordHashIterations")]
    [InlineData("--role=everything", "--role")]
    [InlineData("--Bootstrap:AdminPassword=short", "Bootstrap:AdminPassword")]
    [InlineData("--Idempotency:Retention=01:00:00", "Idempotency:Retention")]
    [InlineData("--ReverseProxy:KnownProxies:0=not-an-ip", "ReverseProxy:KnownProxies")]
    [InlineData("--Messaging:Transport=Kafka", "Messaging:Transport")]
    [InlineData("--Messaging:Transport=RabbitMq", "ConnectionStrings:RabbitMq")]
    [InlineData("--Messaging:RelayLease=00:00:00.100", "RelayLease")]
    [InlineData("--FlashSales:Ledger=Memcached", "FlashSales:Ledger")]
    [InlineData("--FlashSales:Ledger=Redis", "ConnectionStrings:Redis")]
    [InlineData("--Risk:BlockList:Ips:0=not-an-ip", "Risk:BlockList:Ips")]
    [InlineData("--Risk:BlockList:Users:0=someone", "Risk:BlockList:Users")]
    [InlineData("--Risk:CouponClaims:PerIp:Limit=-1", "PerIp.Limit")]
    [InlineData("--Media:Store=Azure", "Media:Store")]
    [InlineData("--Media:Store=S3", "Media:S3:Bucket")]
    [InlineData("--Media:PublicBaseUrl=cdn.example.com", "Media:PublicBaseUrl")]
    [InlineData("--Media:MaxImageBytes=0", "MaxImageBytes")]
    [InlineData("--Circle:HideAfterReports=0", "HideAfterReports")]
    public async Task Invalid_setting_stops_the_server_naming_the_key(string argument, string named)
    {
        var (exitCode, output, error) = await RunServerAsync(argument);

        Assert.True(exitCode == 2, $"exit code {exitCode}; stdout: {output}; stderr: {error}");
        Assert.Contains("configuration is invalid", error, StringComparison.Ordinal);
        Assert.Contains(named, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_database_stops_the_server_with_exit_code_1_and_never_shows_the_password()
    {
        const string password = "Sup3r-Secret-DB-Password";
        var (exitCode, output, error) = await RunServerAsync(
            "--Database:Provider=Postgres", $"--ConnectionStrings:Postgres=Host=127.0.0.1;Port=1;Username=app;Password={password};Timeout=1");

        Assert.True(exitCode == 1, $"exit code {exitCode}; stderr: {error}");
        Assert.StartsWith("FlashMall cannot start:", error, StringComparison.Ordinal);
        Assert.Contains("database=", output, StringComparison.Ordinal);
        Assert.DoesNotContain(password, output + error, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunServerAsync(params string[] arguments)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "flashmall-tests", Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "FlashMall.Server.dll"));
        start.ArgumentList.Add($"--Data:Directory={dataDirectory}");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        finally
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
        return (process.ExitCode, await output, await error);
    }
}
