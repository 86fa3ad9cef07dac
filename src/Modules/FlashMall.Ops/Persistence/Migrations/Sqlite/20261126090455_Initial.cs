using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Ops.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ops_audit",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    at = table.Column<long>(type: "INTEGER", nullable: false),
                    action = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    @switch = table.Column<string>(name: "switch", type: "TEXT", maxLength: 64, nullable: false),
                    before = table.Column<bool>(type: "INTEGER", nullable: false),
                    after = table.Column<bool>(type: "INTEGER", nullable: false),
                    reason = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    actor = table.Column<Guid>(type: "TEXT", nullable: false),
                    change_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    requested_by = table.Column<Guid>(type: "TEXT", nullable: false),
                    approved_by = table.Column<Guid>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ops_audit", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "ops_changes",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    @switch = table.Column<string>(name: "switch", type: "TEXT", maxLength: 64, nullable: false),
                    enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    reason = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    requested_by = table.Column<Guid>(type: "TEXT", nullable: false),
                    requested_at = table.Column<long>(type: "INTEGER", nullable: false),
                    approved_by = table.Column<Guid>(type: "TEXT", nullable: true),
                    applied_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ops_changes", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "ops_switches",
                columns: table => new
                {
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    description = table.Column<string>(type: "TEXT", maxLength: 300, nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_by = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ops_switches", x => x.name);
                });

            migrationBuilder.CreateIndex(
                name: "ix_ops_audit_at",
                table: "ops_audit",
                column: "at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ops_audit");

            migrationBuilder.DropTable(
                name: "ops_changes");

            migrationBuilder.DropTable(
                name: "ops_switches");
        }
    }
}
