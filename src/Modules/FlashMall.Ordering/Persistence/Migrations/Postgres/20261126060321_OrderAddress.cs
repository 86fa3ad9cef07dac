using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Ordering.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class OrderAddress : Migration
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
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
