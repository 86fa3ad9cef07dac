using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Catalog.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SkuCost : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "cost",
                table: "catalog_skus",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "cost",
                table: "catalog_skus");
        }
    }
}
