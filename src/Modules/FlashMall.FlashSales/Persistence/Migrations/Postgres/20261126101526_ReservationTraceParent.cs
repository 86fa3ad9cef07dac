using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.FlashSales.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ReservationTraceParent : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "trace_parent",
                schema: "flash_sales",
                table: "reservations",
                type: "character varying(55)",
                maxLength: 55,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "trace_parent",
                schema: "flash_sales",
                table: "reservations");
        }
    }
}
