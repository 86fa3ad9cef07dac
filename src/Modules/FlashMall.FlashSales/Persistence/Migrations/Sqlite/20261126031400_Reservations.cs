using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.FlashSales.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Reservations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "reserved",
                table: "flash_sales_sale_events",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "flash_sales_reservations",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    sale_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    quantity = table.Column<int>(type: "INTEGER", nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    order_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    released_reason = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_flash_sales_reservations", x => x.id);
                    table.CheckConstraint("ck_reservations_quantity", "quantity > 0");
                });

            migrationBuilder.AddCheckConstraint(
                name: "ck_sale_events_reserved",
                table: "flash_sales_sale_events",
                sql: "reserved >= 0 AND reserved <= quantity");

            migrationBuilder.CreateIndex(
                name: "ix_flash_sales_reservations_sale_id_status",
                table: "flash_sales_reservations",
                columns: new[] { "sale_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_flash_sales_reservations_sale_id_user_id",
                table: "flash_sales_reservations",
                columns: new[] { "sale_id", "user_id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "flash_sales_reservations");

            migrationBuilder.DropCheckConstraint(
                name: "ck_sale_events_reserved",
                table: "flash_sales_sale_events");

            migrationBuilder.DropColumn(
                name: "reserved",
                table: "flash_sales_sale_events");
        }
    }
}
