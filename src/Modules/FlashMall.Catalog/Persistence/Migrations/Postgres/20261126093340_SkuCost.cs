using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Catalog.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class SkuCost : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "cost",
                schema: "catalog",
                table: "skus",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "cost",
                schema: "catalog",
                table: "skus");
        }
    }
}
