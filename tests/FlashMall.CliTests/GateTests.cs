using FlashMall.Cli.Db;
using FlashMall.Cli.Release;
using Microsoft.EntityFrameworkCore.Migrations.Operations;

namespace FlashMall.CliTests;

/// <summary>The health gate's reading of Prometheus text, and which migration operations count as destructive.</summary>
public sealed class GateTests
{
    private const string Scrape = """
        # HELP http_server_request_duration_seconds Duration of HTTP server requests.
        # TYPE http_server_request_duration_seconds histogram
        http_server_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="200",http_route="/api/products",le="0.1"} 90
        http_server_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="200",http_route="/api/products",le="0.5"} 97
        http_server_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="200",http_route="/api/products",le="+Inf"} 97
        http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/api/products"} 97
        http_server_request_duration_seconds_sum{http_request_method="GET",http_response_status_code="200",http_route="/api/products"} 3.2
        http_server_request_duration_seconds_bucket{http_request_method="POST",http_response_status_code="503",http_route="/api/orders",le="0.1"} 0
        http_server_request_duration_seconds_bucket{http_request_method="POST",http_response_status_code="503",http_route="/api/orders",le="0.5"} 1
        http_server_request_duration_seconds_bucket{http_request_method="POST",http_response_status_code="503",http_route="/api/orders",le="+Inf"} 3
        http_server_request_duration_seconds_count{http_request_method="POST",http_response_status_code="503",http_route="/api/orders"} 3
        http_server_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="200",http_route="/health/ready",le="0.1"} 500
        http_server_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="200",http_route="/health/ready",le="0.5"} 500
        http_server_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="200",http_route="/health/ready",le="+Inf"} 500
        http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/health/ready"} 500
        http_client_request_duration_seconds_count{http_response_status_code="500"} 1000
        """;

    [Fact]
    public void The_histogram_gives_the_5xx_ratio_and_p99_without_the_gates_own_health_requests()
    {
        var histogram = RequestHistogram.Parse(Scrape);
        Assert.Equal(100, histogram.Total);
        Assert.Equal(3, histogram.Errors);
        Assert.Equal(0.03, histogram.ErrorRatio, 6);
        // 99th of 100 requests: beyond the 0.5 s bucket (98 requests at or under it) → the last finite bound.
        Assert.Equal(500, histogram.QuantileMs(0.99));
        // The median sits in the first bucket: interpolated, 50/90 of 100 ms.
        Assert.Equal(55.6, histogram.QuantileMs(0.5)!.Value, 1);

        var later = RequestHistogram.Parse(Scrape.Replace("} 97", "} 197", StringComparison.Ordinal).Replace("le=\"0.1\"} 90", "le=\"0.1\"} 190", StringComparison.Ordinal));
        var window = later.Since(histogram);
        Assert.Equal(100, window.Total);
        Assert.Equal(0, window.Errors);
        Assert.Equal(100, window.QuantileMs(1.0));
    }

    [Fact]
    public void Drops_renames_type_changes_and_deletes_are_destructive_additions_are_not()
    {
        Assert.NotNull(ModuleMigrations.Describe(new DropTableOperation { Name = "orders" }));
        Assert.NotNull(ModuleMigrations.Describe(new DropColumnOperation { Table = "orders", Name = "total" }));
        Assert.NotNull(ModuleMigrations.Describe(new RenameTableOperation { Name = "orders", NewName = "orders2" }));
        Assert.NotNull(ModuleMigrations.Describe(new RenameColumnOperation { Table = "orders", Name = "a", NewName = "b" }));
        Assert.NotNull(ModuleMigrations.Describe(new DeleteDataOperation { Table = "orders" }));
        Assert.NotNull(ModuleMigrations.Describe(new SqlOperation { Sql = "DELETE FROM orders WHERE 1=1" }));
        var typeChange = new AlterColumnOperation { Table = "orders", Name = "total", ClrType = typeof(int), ColumnType = "integer" };
        typeChange.OldColumn.ClrType = typeof(long);
        typeChange.OldColumn.ColumnType = "bigint";
        Assert.NotNull(ModuleMigrations.Describe(typeChange));
        var shorter = new AlterColumnOperation { Table = "orders", Name = "note", ClrType = typeof(string), MaxLength = 50, IsNullable = true };
        shorter.OldColumn.ClrType = typeof(string);
        shorter.OldColumn.MaxLength = 200;
        shorter.OldColumn.IsNullable = true;
        Assert.NotNull(ModuleMigrations.Describe(shorter));

        Assert.Null(ModuleMigrations.Describe(new CreateTableOperation { Name = "orders" }));
        Assert.Null(ModuleMigrations.Describe(new AddColumnOperation { Table = "orders", Name = "note", ClrType = typeof(string) }));
        Assert.Null(ModuleMigrations.Describe(new CreateIndexOperation { Table = "orders", Name = "ix", Columns = ["a"] }));
        Assert.Null(ModuleMigrations.Describe(new SqlOperation { Sql = "CREATE INDEX ix ON orders (a)" }));
        var longer = new AlterColumnOperation { Table = "orders", Name = "note", ClrType = typeof(string), MaxLength = 500, IsNullable = true };
        longer.OldColumn.ClrType = typeof(string);
        longer.OldColumn.MaxLength = 200;
        longer.OldColumn.IsNullable = true;
        Assert.Null(ModuleMigrations.Describe(longer));
    }
}
