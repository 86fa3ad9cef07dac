using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.FlashSales.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class OutboxRelayLease : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "flash_sales_outbox_leases",
                columns: table => new
                {
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    holder = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_flash_sales_outbox_leases", x => x.name);
                });

            migrationBuilder.CreateIndex(
                name: "ix_flash_sales_outbox_messages_aggregate_id_sequence",
                table: "flash_sales_outbox_messages",
                columns: new[] { "aggregate_id", "sequence" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "flash_sales_outbox_leases");

            migrationBuilder.DropIndex(
                name: "ix_flash_sales_outbox_messages_aggregate_id_sequence",
                table: "flash_sales_outbox_messages");
        }
    }
}
