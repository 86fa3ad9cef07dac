using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Ops.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class EmergencyChanges : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "emergency",
                schema: "ops",
                table: "changes",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "emergency",
                schema: "ops",
                table: "audit",
                type: "boolean",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "emergency",
                schema: "ops",
                table: "changes");

            migrationBuilder.DropColumn(
                name: "emergency",
                schema: "ops",
                table: "audit");
        }
    }
}
