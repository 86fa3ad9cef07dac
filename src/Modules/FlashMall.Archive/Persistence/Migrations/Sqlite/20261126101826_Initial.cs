using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Archive.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "archive_days",
                columns: table => new
                {
                    day = table.Column<int>(type: "INTEGER", nullable: false),
                    exported_at = table.Column<long>(type: "INTEGER", nullable: false),
                    rows = table.Column<long>(type: "INTEGER", nullable: false),
                    files = table.Column<int>(type: "INTEGER", nullable: false),
                    purged_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_archive_days", x => x.day);
                });

            migrationBuilder.CreateTable(
                name: "archive_outbox_leases",
                columns: table => new
                {
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    holder = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_archive_outbox_leases", x => x.name);
                });

            migrationBuilder.CreateTable(
                name: "archive_outbox_messages",
                columns: table => new
                {
                    sequence = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    aggregate_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    type = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    payload = table.Column<string>(type: "TEXT", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    sent_at = table.Column<long>(type: "INTEGER", nullable: true),
                    attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    next_attempt_at = table.Column<long>(type: "INTEGER", nullable: true),
                    last_error = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    dead_lettered_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_archive_outbox_messages", x => x.sequence);
                });

            migrationBuilder.CreateTable(
                name: "archive_processed_messages",
                columns: table => new
                {
                    message_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    consumer = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    processed_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_archive_processed_messages", x => new { x.message_id, x.consumer });
                });

            migrationBuilder.CreateTable(
                name: "archive_staged_events",
                columns: table => new
                {
                    sequence = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    event_key = table.Column<Guid>(type: "TEXT", nullable: false),
                    dataset = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    day = table.Column<int>(type: "INTEGER", nullable: false),
                    occurred_at = table.Column<long>(type: "INTEGER", nullable: false),
                    payload = table.Column<string>(type: "TEXT", nullable: false),
                    staged_at = table.Column<long>(type: "INTEGER", nullable: false),
                    exported_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_archive_staged_events", x => x.sequence);
                });

            migrationBuilder.CreateIndex(
                name: "ix_archive_outbox_messages_aggregate_id_sequence",
                table: "archive_outbox_messages",
                columns: new[] { "aggregate_id", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_archive_outbox_messages_id",
                table: "archive_outbox_messages",
                column: "id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_archive_outbox_messages_sent_at_dead_lettered_at_sequence",
                table: "archive_outbox_messages",
                columns: new[] { "sent_at", "dead_lettered_at", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_archive_processed_messages_processed_at",
                table: "archive_processed_messages",
                column: "processed_at");

            migrationBuilder.CreateIndex(
                name: "ix_archive_staged_events_day_dataset_sequence",
                table: "archive_staged_events",
                columns: new[] { "day", "dataset", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_archive_staged_events_event_key",
                table: "archive_staged_events",
                column: "event_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_archive_staged_events_exported_at_day",
                table: "archive_staged_events",
                columns: new[] { "exported_at", "day" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "archive_days");

            migrationBuilder.DropTable(
                name: "archive_outbox_leases");

            migrationBuilder.DropTable(
                name: "archive_outbox_messages");

            migrationBuilder.DropTable(
                name: "archive_processed_messages");

            migrationBuilder.DropTable(
                name: "archive_staged_events");
        }
    }
}
