using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Coupons.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CategoriesAndStacking : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "category_ids",
                table: "coupons_templates",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<bool>(
                name: "stackable",
                table: "coupons_templates",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "category_ids",
                table: "coupons_templates");

            migrationBuilder.DropColumn(
                name: "stackable",
                table: "coupons_templates");
        }
    }
}
