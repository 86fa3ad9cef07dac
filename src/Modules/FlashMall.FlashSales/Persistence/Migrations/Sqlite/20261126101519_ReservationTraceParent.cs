using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.FlashSales.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ReservationTraceParent : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "trace_parent",
                table: "flash_sales_reservations",
                type: "TEXT",
                maxLength: 55,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "trace_parent",
                table: "flash_sales_reservations");
        }
    }
}
