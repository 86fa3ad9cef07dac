using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Coupons.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CategoriesAndStacking : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<List<Guid>>(
                name: "category_ids",
                schema: "coupons",
                table: "templates",
                type: "uuid[]",
                nullable: false,
                // Existing templates apply to every category.
                defaultValueSql: "'{}'::uuid[]");

            migrationBuilder.AddColumn<bool>(
                name: "stackable",
                schema: "coupons",
                table: "templates",
                type: "boolean",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "category_ids",
                schema: "coupons",
                table: "templates");

            migrationBuilder.DropColumn(
                name: "stackable",
                schema: "coupons",
                table: "templates");
        }
    }
}
