using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Coupons.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddNewAccountCoolDown : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "new_account_cool_down_hours",
                table: "coupons_templates",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddCheckConstraint(
                name: "ck_templates_new_account_cool_down",
                table: "coupons_templates",
                sql: "new_account_cool_down_hours >= 0");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_templates_new_account_cool_down",
                table: "coupons_templates");

            migrationBuilder.DropColumn(
                name: "new_account_cool_down_hours",
                table: "coupons_templates");
        }
    }
}
