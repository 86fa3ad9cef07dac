namespace FlashMall.ApiTests.Infrastructure;

/// <summary>
/// Which adapters this run uses. <c>test.sh</c> runs the suite twice: on the embedded defaults
/// (SQLite, in-process cache) and on PostgreSQL + Redis, which it starts as real servers.
/// </summary>
public static class TestEnvironment
{
    public static bool UsesPostgres =>
        string.Equals(Environment.GetEnvironmentVariable("FLASHMALL_TEST_PROVIDER"), "Postgres", StringComparison.OrdinalIgnoreCase);

    /// <summary>Connection string of a role allowed to create databases (each fixture gets its own).</summary>
    public static string PostgresAdmin =>
        Environment.GetEnvironmentVariable("FLASHMALL_TEST_POSTGRES")
        ?? throw new InvalidOperationException("FLASHMALL_TEST_PROVIDER=Postgres needs FLASHMALL_TEST_POSTGRES (test.sh sets both).");

    public static string? Redis => UsesPostgres ? Environment.GetEnvironmentVariable("FLASHMALL_TEST_REDIS") : null;

    /// <summary>The nodes of a 3-master Redis Cluster (<c>host:port,host:port,host:port</c>), on the PostgreSQL run.</summary>
    public static string? RedisCluster => UsesPostgres && Environment.GetEnvironmentVariable("FLASHMALL_TEST_REDIS_CLUSTER") is { Length: > 0 } nodes ? nodes : null;

    /// <summary>An <c>amqp://</c> URI of the RabbitMQ test.sh started (both runs get it).</summary>
    public static string? RabbitMq => Environment.GetEnvironmentVariable("FLASHMALL_TEST_RABBITMQ") is { Length: > 0 } uri ? uri : null;

    /// <summary>A MySqlConnector connection string to the Sphinx searchd test.sh starts (real-time index <c>products</c>), on the PostgreSQL run.</summary>
    public static string? Sphinx => UsesPostgres && Environment.GetEnvironmentVariable("FLASHMALL_TEST_SPHINX") is { Length: > 0 } sphinx ? sphinx : null;
    /// <summary>The endpoint of an S3-compatible server (test.sh starts s3rver; both runs get it), or null.</summary>
    public static string? S3 => Environment.GetEnvironmentVariable("FLASHMALL_TEST_S3") is { Length: > 0 } url ? url : null;

    public static string S3AccessKey => Environment.GetEnvironmentVariable("FLASHMALL_TEST_S3_ACCESS_KEY") ?? "S3RVER";

    public static string S3SecretKey => Environment.GetEnvironmentVariable("FLASHMALL_TEST_S3_SECRET_KEY") ?? "S3RVER";

    /// <summary>A script that restarts that RabbitMQ (stop, start, wait until it is ready).</summary>
    public static string? RabbitMqRestart => Environment.GetEnvironmentVariable("FLASHMALL_TEST_RABBITMQ_RESTART") is { Length: > 0 } script ? script : null;
}

/// <summary>A fact that needs the RabbitMQ test.sh starts; skipped when it is not there.</summary>
public sealed class RabbitMqFactAttribute : FactAttribute
{
    public RabbitMqFactAttribute()
    {
        if (TestEnvironment.RabbitMq is null || TestEnvironment.RabbitMqRestart is null)
        {
            Skip = "Needs RabbitMQ (test.sh starts it and sets FLASHMALL_TEST_RABBITMQ and FLASHMALL_TEST_RABBITMQ_RESTART).";
        }
    }
}

/// <summary>A fact that needs an S3-compatible server; skipped when there is none.</summary>
public sealed class S3FactAttribute : FactAttribute
{
    public S3FactAttribute()
    {
        if (TestEnvironment.S3 is null)
        {
            Skip = "Needs an S3-compatible server (test.sh starts s3rver and sets FLASHMALL_TEST_S3).";
        }
    }
}

/// <summary>A fact that needs Redis shared between nodes; skipped on the embedded run, where no node shares a cache.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (TestEnvironment.Redis is null)
        {
            Skip = "Needs a shared Redis (the PostgreSQL + Redis run of test.sh).";
        }
    }
}

/// <summary>A fact that needs the 3-master Redis Cluster test.sh starts for the PostgreSQL run.</summary>
public sealed class RedisClusterFactAttribute : FactAttribute
{
    public RedisClusterFactAttribute()
    {
        if (TestEnvironment.Redis is null || TestEnvironment.RedisCluster is null)
        {
            Skip = "Needs a Redis Cluster (test.sh starts one and sets FLASHMALL_TEST_REDIS_CLUSTER for the PostgreSQL run).";
        }
    }
}
