using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Ordering.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class OrderAddress : Migration
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
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
