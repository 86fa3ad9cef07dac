using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Ordering.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CartAndAddresses : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "address_city",
                schema: "ordering",
                table: "orders",
                type: "character varying(50)",
                maxLength: 50,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "address_line1",
                schema: "ordering",
                table: "orders",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "address_name",
                schema: "ordering",
                table: "orders",
                type: "character varying(50)",
                maxLength: 50,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "address_phone",
                schema: "ordering",
                table: "orders",
                type: "character varying(20)",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "address_postcode",
                schema: "ordering",
                table: "orders",
                type: "character varying(12)",
                maxLength: 12,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "address_region",
                schema: "ordering",
                table: "orders",
                type: "character varying(50)",
                maxLength: 50,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "cart_items",
                schema: "ordering",
                columns: table => new
                {
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    sku_id = table.Column<Guid>(type: "uuid", nullable: false),
                    quantity = table.Column<int>(type: "integer", nullable: false),
                    added_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cart_items", x => new { x.user_id, x.sku_id });
                    table.CheckConstraint("ck_cart_items_quantity", "quantity > 0 AND quantity <= 99");
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "cart_items",
                schema: "ordering");

            migrationBuilder.DropColumn(
                name: "address_city",
                schema: "ordering",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "address_line1",
                schema: "ordering",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "address_name",
                schema: "ordering",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "address_phone",
                schema: "ordering",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "address_postcode",
                schema: "ordering",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "address_region",
                schema: "ordering",
                table: "orders");
        }
    }
}
