using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Ops.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class EmergencyChanges : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "emergency",
                table: "ops_changes",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "emergency",
                table: "ops_audit",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "emergency",
                table: "ops_changes");

            migrationBuilder.DropColumn(
                name: "emergency",
                table: "ops_audit");
        }
    }
}
