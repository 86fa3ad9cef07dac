using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Scheduling.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "scheduling_job_runs",
                columns: table => new
                {
                    job_name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    scheduled_at = table.Column<long>(type: "INTEGER", nullable: false),
                    node = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    manual = table.Column<bool>(type: "INTEGER", nullable: false),
                    started_at = table.Column<long>(type: "INTEGER", nullable: false),
                    finished_at = table.Column<long>(type: "INTEGER", nullable: true),
                    outcome = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    error = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_scheduling_job_runs", x => new { x.job_name, x.scheduled_at });
                });

            migrationBuilder.CreateIndex(
                name: "ix_scheduling_job_runs_started_at",
                table: "scheduling_job_runs",
                column: "started_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "scheduling_job_runs");
        }
    }
}
