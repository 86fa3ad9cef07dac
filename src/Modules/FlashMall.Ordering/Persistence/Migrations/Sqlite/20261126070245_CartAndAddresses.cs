using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Ordering.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CartAndAddresses : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "address_city",
                table: "ordering_orders",
                type: "TEXT",
                maxLength: 50,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "address_line1",
                table: "ordering_orders",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "address_name",
                table: "ordering_orders",
                type: "TEXT",
                maxLength: 50,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "address_phone",
                table: "ordering_orders",
                type: "TEXT",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "address_postcode",
                table: "ordering_orders",
                type: "TEXT",
                maxLength: 12,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "address_region",
                table: "ordering_orders",
                type: "TEXT",
                maxLength: 50,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ordering_cart_items",
                columns: table => new
                {
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    sku_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    quantity = table.Column<int>(type: "INTEGER", nullable: false),
                    added_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ordering_cart_items", x => new { x.user_id, x.sku_id });
                    table.CheckConstraint("ck_cart_items_quantity", "quantity > 0 AND quantity <= 99");
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ordering_cart_items");

            migrationBuilder.DropColumn(
                name: "address_city",
                table: "ordering_orders");

            migrationBuilder.DropColumn(
                name: "address_line1",
                table: "ordering_orders");

            migrationBuilder.DropColumn(
                name: "address_name",
                table: "ordering_orders");

            migrationBuilder.DropColumn(
                name: "address_phone",
                table: "ordering_orders");

            migrationBuilder.DropColumn(
                name: "address_postcode",
                table: "ordering_orders");

            migrationBuilder.DropColumn(
                name: "address_region",
                table: "ordering_orders");
        }
    }
}
