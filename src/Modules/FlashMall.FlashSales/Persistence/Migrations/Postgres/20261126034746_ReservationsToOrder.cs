using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.FlashSales.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ReservationsToOrder : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_reservations_status_created_at",
                schema: "flash_sales",
                table: "reservations",
                columns: new[] { "status", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_reservations_status_created_at",
                schema: "flash_sales",
                table: "reservations");
        }
    }
}
