using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.FlashSales.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class OutboxRelayLease : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "outbox_leases",
                schema: "flash_sales",
                columns: table => new
                {
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    holder = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_outbox_leases", x => x.name);
                });

            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_aggregate_id_sequence",
                schema: "flash_sales",
                table: "outbox_messages",
                columns: new[] { "aggregate_id", "sequence" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "outbox_leases",
                schema: "flash_sales");

            migrationBuilder.DropIndex(
                name: "ix_outbox_messages_aggregate_id_sequence",
                schema: "flash_sales",
                table: "outbox_messages");
        }
    }
}
