using FlashMall.Kernel.Persistence;
using Npgsql;

namespace FlashMall.UnitTests.Persistence;

public sealed class SqlRedactorTests
{
    [Theory]
    [InlineData("SELECT * FROM t WHERE name = 'secret@example.com'", "SELECT * FROM t WHERE name = '?'")]
    [InlineData("SELECT 'it''s a secret' AS x", "SELECT '?' AS x")]
    [InlineData("SELECT E'back\\'slash' FROM t", "SELECT E'?' FROM t")]
    [InlineData("SELECT $body$ 13800138000 $body$", "SELECT $body$?$body$")]
    [InlineData("SELECT $$ secret $$", "SELECT $$?$$")]
    [InlineData("UPDATE accounts SET balance = 1234.50 WHERE id = 42", "UPDATE accounts SET balance = ? WHERE id = ?")]
    [InlineData("SELECT x FROM t WHERE n > -7 LIMIT 20 OFFSET 40", "SELECT x FROM t WHERE n > -? LIMIT ? OFFSET ?")]
    [InlineData("SELECT X'DEADBEEF', 0x1F", "SELECT X'?', ?")]
    public void Literal_values_are_replaced(string sql, string expected) => Assert.Equal(expected, SqlRedactor.Redact(sql));

    [Theory]
    [InlineData("SELECT t0.id, t1.name FROM catalog.products AS t0 WHERE t0.id = @__productId_0 AND t1.x = $1 LIMIT @p1")]
    [InlineData("SELECT \"p\".\"it's\", p2.col3 FROM \"catalog\".\"products\" AS p2")]
    [InlineData("SELECT count(*)::int FROM ordering.orders AS o -- a comment\nWHERE o.user_id = @userId")]
    [InlineData("INSERT INTO circle_posts (id, text) VALUES (@p0, @p1) RETURNING version")]
    public void Identifiers_placeholders_and_comments_stay(string sql) => Assert.Equal(sql, SqlRedactor.Redact(sql));

    [Fact]
    public void Long_statements_are_cut()
    {
        var sql = "SELECT " + string.Join(", ", Enumerable.Range(0, 2000).Select(i => $"col_{i}")) + " FROM t";
        var redacted = SqlRedactor.Redact(sql);
        Assert.True(redacted.Length <= SqlRedactor.MaxLength + 64);
        Assert.EndsWith(" …", redacted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=db1;Port=5433", new[] { "db1:5433" })]
    [InlineData("Host=db1:5432,db2:5433", new[] { "db1:5432", "db2:5433" })]
    [InlineData("Host=a,b;Port=6000", new[] { "a:6000", "b:6000" })]
    [InlineData("Host=[::1]:5433,10.0.0.2", new[] { "[::1]:5433", "10.0.0.2:5432" })]
    public void Hosts_of_a_multi_host_connection_string(string connectionString, string[] expected) =>
        Assert.Equal(expected, PostgresTopology.Hosts(new NpgsqlConnectionStringBuilder(connectionString)).Select(h => h.ToString()));
}
