using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FlashMall.ApiTests.Infrastructure;

/// <summary>
/// One FlashMall node over real HTTP handlers, with its own data folder and (on the PostgreSQL run)
/// its own freshly created database and Redis key prefix, so no test sees another's leftovers.
/// Pass <c>shareStoresWith</c> to start a second node on the same database and Redis.
/// </summary>
public class FlashMallFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminEmail = "admin@flashmall.test";
    public const string AdminPassword = "Admin-Password-2026!";

    private readonly string _dataDirectory;
    private readonly FlashMallFactory? _shareStoresWith;
    private readonly string _databaseName;
    private readonly string _redisPrefix;
    private readonly string _brokerPrefix;
    private readonly string _signingKey;
    private string? _adminToken;
    private bool _hostConfigured;

    public FlashMallFactory()
        : this(null)
    {
    }

    protected FlashMallFactory(FlashMallFactory? shareStoresWith)
    {
        _shareStoresWith = shareStoresWith;
        _dataDirectory = shareStoresWith?._dataDirectory ?? Path.Combine(Path.GetTempPath(), "flashmall-tests", Guid.NewGuid().ToString("N"));
        _databaseName = shareStoresWith?._databaseName ?? $"fm_test_{Guid.NewGuid():N}";
        _redisPrefix = shareStoresWith?._redisPrefix ?? $"fmtest:{Guid.NewGuid():N}:";
        _brokerPrefix = shareStoresWith?._brokerPrefix ?? $"fmtest.{Guid.NewGuid():N}";
        _signingKey = shareStoresWith?._signingKey ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
    }

    public LogCapture Logs { get; } = new();

    /// <summary>Extra services (e.g. a test job), added after the application's own.</summary>
    public Action<IServiceCollection>? ConfigureTestServices { get; set; }

    /// <summary>Settings this node starts with; subclasses and tests change them before the first request.</summary>
    public Dictionary<string, string?> Settings { get; } = new(StringComparer.Ordinal);

    public string PostgresConnectionString => new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresAdmin) { Database = _databaseName }.ToString();

    public virtual async Task InitializeAsync()
    {
        Settings["Data:Directory"] = _dataDirectory;
        // A second node sharing the data folder has an index (and an IndexWriter lock) of its own.
        Settings["Search:Directory"] = Path.Combine(_dataDirectory, $"search-{Guid.NewGuid():N}");
        // Likewise its embedded ledger's journal (each node holds its own exclusively).
        Settings["FlashSales:JournalDirectory"] = Path.Combine(_dataDirectory, $"ledger-{Guid.NewGuid():N}");
        Settings["Demo:Seed"] = "false";
        Settings["RateLimiting:Enabled"] = "false";
        // Functional tests fire parallel requests on small CI machines: per-class concurrency
        // limits (one slot per core by default) are exercised by LoadSheddingTests, not here.
        Settings["LoadShedding:NonCoreMaxConcurrent"] = "10000";
        Settings["LoadShedding:NonCoreShedWhenCoreInFlight"] = "10000";
        Settings["Bootstrap:AdminEmail"] = AdminEmail;
        Settings["Bootstrap:AdminPassword"] = AdminPassword;
        // Nodes of one deployment share the key (a lone node would generate one under Data:Directory).
        Settings["Jwt:SigningKey"] = _signingKey;

        if (TestEnvironment.RabbitMq is { } rabbitMq)
        {
            Settings["ConnectionStrings:RabbitMq"] = rabbitMq;
            Settings["Messaging:RabbitMq:Prefix"] = _brokerPrefix;
        }
        if (TestEnvironment.UsesPostgres)
        {
            // The production stack: PostgreSQL, Redis and (when test.sh started it) RabbitMQ.
            if (TestEnvironment.RabbitMq is not null)
            {
                Settings["Messaging:Transport"] = "RabbitMq";
            }
            Settings["Database:Provider"] = "Postgres";
            Settings["ConnectionStrings:Postgres"] = PostgresConnectionString;
            Settings["ConnectionStrings:Redis"] = TestEnvironment.Redis;
            Settings["Cache:KeyPrefix"] = _redisPrefix;
            if (_shareStoresWith is null)
            {
                await using var connection = new NpgsqlConnection(TestEnvironment.PostgresAdmin);
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{_databaseName}\"", connection);
                await create.ExecuteNonQueryAsync();
            }
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        _hostConfigured = true;
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        builder.ConfigureServices(services => ConfigureTestServices?.Invoke(services));
    }

    /// <summary>
    /// A buyer's access token for <paramref name="userId"/>, signed with this deployment's key as
    /// the Accounts module signs them (buyers' tokens are not checked against the store), so a
    /// test can field thousands of distinct buyers without hashing thousands of passwords.
    /// </summary>
    public string BuyerToken(Guid userId, TimeSpan? lifetime = null) => TestTokens.Buyer(_signingKey, userId, lifetime);

    /// <summary>A client signed in as the bootstrapped admin.</summary>
    public async Task<HttpClient> AdminClientAsync()
    {
        _adminToken ??= (await LoginAsync(AdminEmail, AdminPassword)).AccessToken;
        return ClientWithToken(_adminToken);
    }

    public HttpClient ClientWithToken(string accessToken)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }

    public async Task<Tokens> LoginAsync(string login, string password)
    {
        using var client = CreateClient();
        var response = await client.PostAsJsonAsync("/api/accounts/login", new { login, password });
        await response.EnsureStatusAsync(System.Net.HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<Tokens>())!;
    }

    /// <summary>Registers a new user with a unique email, optionally gives it roles, and returns a signed-in client.</summary>
    public async Task<TestUser> NewUserAsync(params string[] roles)
    {
        var email = $"user-{Guid.NewGuid():N}@flashmall.test";
        const string password = "Correct-Horse-9";
        using var anonymous = CreateClient();
        var registered = await anonymous.PostAsJsonAsync("/api/accounts/register", new { email, password });
        await registered.EnsureStatusAsync(System.Net.HttpStatusCode.Created);
        var userId = (await registered.Content.ReadFromJsonAsync<Registered>())!.UserId;
        if (roles.Length > 0)
        {
            using var admin = await AdminClientAsync();
            var set = await admin.PostAsJsonAsync($"/api/admin/users/{userId}/roles", new { roles });
            await set.EnsureStatusAsync(System.Net.HttpStatusCode.OK);
        }
        var tokens = await LoginAsync(email, password);
        return new TestUser(userId, email, password, tokens, ClientWithToken(tokens.AccessToken));
    }

    public T WithScope<T>(Func<IServiceProvider, T> read)
    {
        using var scope = Services.CreateScope();
        return read(scope.ServiceProvider);
    }

    public async Task<T> WithScopeAsync<T>(Func<IServiceProvider, Task<T>> read)
    {
        await using var scope = Services.CreateAsyncScope();
        return await read(scope.ServiceProvider);
    }

    /// <summary>This deployment's queues and exchanges on the run's RabbitMQ (each node's prefix is its own), or null.</summary>
    private (string[] Queues, string[] Exchanges)? BrokerObjects()
    {
        try
        {
            if (!_hostConfigured || TestEnvironment.RabbitMq is null || Services.GetService<FlashMall.RabbitMq.RabbitMqTopology>() is not { } topology)
            {
                return null;
            }
            return ([topology.DeadLetterQueue, .. topology.ConsumerQueues.Keys.Select(topology.QueueOf)], [topology.EventsExchange, topology.DeadLetterExchange]);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            return null; // the node did not start, or has already stopped
        }
    }

    /// <summary>
    /// Removes them once the node has stopped: quorum queues left behind by every test of the run
    /// would pile up on the one broker and slow down everything after them.
    /// </summary>
    /// <remarks>Best effort: the broker may be in the middle of another test's restart, and then they stay.</remarks>
    private static async Task DeleteBrokerObjectsAsync((string[] Queues, string[] Exchanges) objects)
    {
        // Bounded: a broker that accepts the socket and never answers the handshake (seen once, in a
        // second run of the suite against one RabbitMQ) must not hang the suite in a fixture's disposal.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(TestEnvironment.RabbitMq!), AutomaticRecoveryEnabled = false };
            await using var connection = await factory.CreateConnectionAsync(timeout.Token);
            await using var channel = await connection.CreateChannelAsync(cancellationToken: timeout.Token);
            foreach (var queue in objects.Queues)
            {
                await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false, cancellationToken: timeout.Token);
            }
            foreach (var exchange in objects.Exchanges)
            {
                await channel.ExchangeDeleteAsync(exchange, cancellationToken: timeout.Token);
            }
        }
        catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.RabbitMQClientException or RabbitMQ.Client.Exceptions.OperationInterruptedException
            or System.Net.Sockets.SocketException or IOException or TimeoutException or OperationCanceledException)
        {
            // Left behind, as before this cleanup existed.
        }
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        var brokerObjects = _shareStoresWith is null ? BrokerObjects() : null;
        await DisposeAsync();
        if (brokerObjects is not null)
        {
            await DeleteBrokerObjectsAsync(brokerObjects.Value);
        }
        if (TestEnvironment.UsesPostgres && _shareStoresWith is null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(TestEnvironment.PostgresAdmin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_databaseName}\" WITH (FORCE)", connection);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await drop.ExecuteNonQueryAsync();
                    break;
                }
                catch (PostgresException ex) when (ex.SqlState is "42501" or "55006" && attempt < 5)
                {
                    // An autovacuum worker (or a pool connection still closing) is on it: try again shortly.
                    await Task.Delay(200);
                }
            }
        }
        if (_shareStoresWith is null)
        {
            try
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }
}

/// <summary>A second node on the same database (and data folder, so the same SQLite file) and Redis as <paramref name="first"/>.</summary>
public sealed class SecondNodeFactory(FlashMallFactory first) : FlashMallFactory(first);

public sealed record Tokens(string AccessToken, string RefreshToken, int ExpiresIn);
public sealed record Registered(string UserId);
public sealed record TestUser(string UserId, string Email, string Password, Tokens Tokens, HttpClient Client);

public static class TestTokens
{
    /// <summary>A buyer's access token for <paramref name="userId"/>, as the Accounts module signs them with <paramref name="signingKey"/> (valid 15 minutes unless said).</summary>
    public static string Buyer(string signingKey, Guid userId, TimeSpan? lifetime = null)
    {
        var now = DateTime.UtcNow;
        return new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = "flashmall",
            Audience = "flashmall-api",
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime ?? TimeSpan.FromMinutes(15)),
            Claims = new Dictionary<string, object> { ["sub"] = userId.ToString(), ["jti"] = Guid.NewGuid().ToString("N"), ["role"] = new[] { "buyer" } },
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
                new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(Convert.FromBase64String(signingKey)), Microsoft.IdentityModel.Tokens.SecurityAlgorithms.HmacSha256),
        });
    }
}
