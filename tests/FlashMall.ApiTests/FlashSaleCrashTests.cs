using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using FlashMall.ApiTests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace FlashMall.ApiTests;

/// <summary>
/// The real server process, on the embedded defaults (SQLite, in-process ledger) and on the Redis ledger, killed with
/// SIGKILL in the middle of a sale and started again on the same data: every reservation a buyer
/// was told about is still there, and the sale never sells more than its units.
/// </summary>
public sealed class FlashSaleCrashTests
{
    private const int Units = 100; // the demo's live sale: 100 units, 1 per buyer

    /// <summary>
    /// The embedded ledger answers once the reservation is in its journal on disk and writes the
    /// database behind: the restarted process writes the journal to the database before it sells.
    /// The journal is also given a torn last record (a write the crash cut off, never answered),
    /// which recovery must cut off rather than trip over.
    /// </summary>
    [Fact]
    public Task A_server_killed_mid_sale_loses_no_answered_reservation_and_never_oversells() => KillMidSaleAsync([], tearJournal: true);

    /// <summary>
    /// The same on the Redis ledger (SQLite + the run's Redis): answered reservations live in the
    /// sale's stream until written, and the entries the killed process had read but not written
    /// are claimed by the restarted one.
    /// </summary>
    [RedisFact]
    public Task A_server_on_the_Redis_ledger_killed_mid_sale_loses_no_answered_reservation_and_never_oversells() =>
        KillMidSaleAsync([$"--ConnectionStrings:Redis={TestEnvironment.Redis}", $"--Cache:KeyPrefix=fmcrash:{Guid.NewGuid():N}:",
            "--FlashSales:Ledger=Redis", "--FlashSales:Redis:ReclaimAfter=00:00:01"]);

    private static async Task KillMidSaleAsync(string[] settings, bool tearJournal = false)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "flashmall-tests", Guid.NewGuid().ToString("N"));
        var signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
        var tokens = new TokenMinter(signingKey);
        var answered = new List<(Guid Buyer, string ReservationId)>();
        try
        {
            string sale;
            using (var first = await ServerProcess.StartAsync(dataDirectory, signingKey, settings))
            {
                sale = await LiveSaleAsync(first.Client);
                // Buyers keep coming; the process dies under them once some have been answered.
                using var stop = new CancellationTokenSource();
                var buying = BuyAsync(first.Client, tokens, sale, 3_000, answered, stop.Token);
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (Count(answered) < 30)
                {
                    Assert.False(buying.IsCompleted, "the buyers finished before 30 were answered");
                    Assert.True(DateTime.UtcNow < deadline, "30 buyers were not answered within 60 s");
                    await Task.Delay(5);
                }
                first.Kill();
                await stop.CancelAsync();
                await buying;
            }
            if (tearJournal)
            {
                var segments = Directory.GetFiles(Path.Combine(dataDirectory, "ledger"), "reservations-*.journal");
                Assert.True(segments.Length > 0, "the embedded ledger keeps no journal");
                var journal = segments.Max(StringComparer.Ordinal)!; // the newest: names are zero-padded numbers
                // A length of 90 bytes followed by 6: the start of a record whose write the crash cut
                // off, where the next record would have gone (segments are zero-filled ahead: past the
                // last record [u32 length][u32 CRC][payload] come zeros).
                var bytes = await File.ReadAllBytesAsync(journal);
                var end = 0;
                while (end + 8 <= bytes.Length && BitConverter.ToInt32(bytes, end) is > 0 and var length && end + 8 + length <= bytes.Length)
                {
                    end += 8 + length;
                }
                await using (var file = new FileStream(journal, FileMode.Open, FileAccess.Write))
                {
                    file.Position = end;
                    await file.WriteAsync(new byte[] { 90, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 1, 2 });
                }
            }
            var beforeCrash = Count(answered);
            Assert.InRange(beforeCrash, 30, Units);

            using var second = await ServerProcess.StartAsync(dataDirectory, signingKey, settings);
            foreach (var (buyer, reservationId) in Snapshot(answered))
            {
                using var mine = await second.Client.SendAsync(Get($"/api/reservations/{reservationId}", tokens.For(buyer)));
                Assert.True(mine.StatusCode == HttpStatusCode.OK, $"answered reservation {reservationId} lost after the crash");
            }
            await BuyAsync(second.Client, tokens, sale, 1_000, answered, CancellationToken.None);

            // The Redis ledger writes its stream to the database after answering: wait for the last rows.
            var written = DateTime.UtcNow.AddSeconds(30);
            while (Stored(dataDirectory).Rows < Units && DateTime.UtcNow < written)
            {
                await Task.Delay(100);
            }
            var (rows, reserved) = Stored(dataDirectory);
            Assert.Equal(Units, reserved);       // sold out exactly: the crash neither lost units nor sold extra
            Assert.Equal(Units, rows);
            // Reservations committed whose answer died with the process: at most the 64 requests in flight.
            Assert.InRange(Count(answered), Units - 64, Units);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    private static int Count(List<(Guid, string)> answered)
    {
        lock (answered)
        {
            return answered.Count;
        }
    }

    private static List<(Guid, string)> Snapshot(List<(Guid, string)> answered)
    {
        lock (answered)
        {
            return [.. answered];
        }
    }

    private static async Task<string> LiveSaleAsync(HttpClient client)
    {
        var live = await (await client.GetAsync("/api/flash-sales?status=live")).JsonAsync();
        return live.GetProperty("items")[0].GetProperty("id").GetString()!;
    }

    /// <summary>Distinct buyers purchase one unit each, 64 at a time; the 202 answers are collected.</summary>
    private static async Task BuyAsync(HttpClient client, TokenMinter tokens, string sale, int buyers, List<(Guid, string)> answered, CancellationToken stop)
    {
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, buyers), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = stop }, async (_, ct) =>
            {
                var buyer = Guid.NewGuid();
                var request = Get($"/api/flash-sales/{sale}/purchase", tokens.For(buyer));
                request.Method = HttpMethod.Post;
                request.Content = JsonContent.Create(new { quantity = 1 });
                try
                {
                    using var response = await client.SendAsync(request, ct);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
                        lock (answered)
                        {
                            answered.Add((buyer, body.GetProperty("reservationId").GetString()!));
                        }
                    }
                }
                catch (HttpRequestException)
                {
                    // the process is gone: this buyer got no answer
                }
            });
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static HttpRequestMessage Get(string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private static (int Rows, int Reserved) Stored(string dataDirectory)
    {
        var file = Directory.GetFiles(dataDirectory, "*.db", SearchOption.AllDirectories).Single();
        using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var rows = connection.CreateCommand();
        rows.CommandText = "SELECT COUNT(*) FROM flash_sales_reservations";
        using var reserved = connection.CreateCommand();
        reserved.CommandText = "SELECT MAX(reserved) FROM flash_sales_sale_events";
        return (Convert.ToInt32(rows.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt32(reserved.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
    }

    private sealed class TokenMinter(string signingKey)
    {
        public string For(Guid buyer) => TestTokens.Buyer(signingKey, buyer);
    }

    private sealed class ServerProcess : IDisposable
    {
        private readonly Process _process;

        private ServerProcess(Process process, int port)
        {
            _process = process;
            Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        }

        public HttpClient Client { get; }

        public static async Task<ServerProcess> StartAsync(string dataDirectory, string signingKey, string[] settings)
        {
            var port = FreePort();
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "FlashMall.Server.dll"));
            string[] arguments =
            [
                $"--Data:Directory={dataDirectory}", "--Demo:Seed=true", "--RateLimiting:Enabled=false", $"--Jwt:SigningKey={signingKey}",
                "--Database:Provider=Sqlite", "--Messaging:Transport=InProcess", "--Logging:LogLevel:Default=Warning",
                .. settings,
            ];
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
            start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new ServerProcess(process, port);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                Assert.False(process.HasExited, "the server exited while starting");
                Assert.True(DateTime.UtcNow < deadline, "the server did not become ready in 60 s");
                try
                {
                    using var ready = await server.Client.GetAsync("/health/ready");
                    if (ready.IsSuccessStatusCode)
                    {
                        return server;
                    }
                }
                catch (HttpRequestException)
                {
                }
                await Task.Delay(200);
            }
        }

        /// <summary>SIGKILL: no shutdown, no flush.</summary>
        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                Kill();
            }
            _process.Dispose();
            Client.Dispose();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
