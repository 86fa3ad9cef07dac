using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.FlashSales.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Reservations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "reserved",
                schema: "flash_sales",
                table: "sale_events",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "reservations",
                schema: "flash_sales",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    sale_id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    quantity = table.Column<int>(type: "integer", nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    order_id = table.Column<Guid>(type: "uuid", nullable: true),
                    released_reason = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_reservations", x => x.id);
                    table.CheckConstraint("ck_reservations_quantity", "quantity > 0");
                });

            migrationBuilder.AddCheckConstraint(
                name: "ck_sale_events_reserved",
                schema: "flash_sales",
                table: "sale_events",
                sql: "reserved >= 0 AND reserved <= quantity");

            migrationBuilder.CreateIndex(
                name: "ix_reservations_sale_id_status",
                schema: "flash_sales",
                table: "reservations",
                columns: new[] { "sale_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_reservations_sale_id_user_id",
                schema: "flash_sales",
                table: "reservations",
                columns: new[] { "sale_id", "user_id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "reservations",
                schema: "flash_sales");

            migrationBuilder.DropCheckConstraint(
                name: "ck_sale_events_reserved",
                schema: "flash_sales",
                table: "sale_events");

            migrationBuilder.DropColumn(
                name: "reserved",
                schema: "flash_sales",
                table: "sale_events");
        }
    }
}
