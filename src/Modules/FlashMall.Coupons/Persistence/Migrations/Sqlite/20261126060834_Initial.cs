using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Coupons.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "coupons_coupons",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    template_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    used = table.Column<bool>(type: "INTEGER", nullable: false),
                    order_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    claimed_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_coupons_coupons", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "coupons_idempotency_records",
                columns: table => new
                {
                    scope = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    request_hash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    completed = table.Column<bool>(type: "INTEGER", nullable: false),
                    response_status = table.Column<int>(type: "INTEGER", nullable: true),
                    response_content_type = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    response_location = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                    response_body = table.Column<byte[]>(type: "BLOB", nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    lease_expires_at = table.Column<long>(type: "INTEGER", nullable: false),
                    claim_token = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_coupons_idempotency_records", x => new { x.scope, x.key });
                });

            migrationBuilder.CreateTable(
                name: "coupons_outbox_leases",
                columns: table => new
                {
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    holder = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_coupons_outbox_leases", x => x.name);
                });

            migrationBuilder.CreateTable(
                name: "coupons_outbox_messages",
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
                    table.PrimaryKey("pk_coupons_outbox_messages", x => x.sequence);
                });

            migrationBuilder.CreateTable(
                name: "coupons_processed_messages",
                columns: table => new
                {
                    message_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    consumer = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    processed_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_coupons_processed_messages", x => new { x.message_id, x.consumer });
                });

            migrationBuilder.CreateTable(
                name: "coupons_templates",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    value = table.Column<long>(type: "INTEGER", nullable: false),
                    max_discount = table.Column<long>(type: "INTEGER", nullable: true),
                    min_spend = table.Column<long>(type: "INTEGER", nullable: false),
                    total_quantity = table.Column<int>(type: "INTEGER", nullable: false),
                    claimed = table.Column<int>(type: "INTEGER", nullable: false),
                    per_user_limit = table.Column<int>(type: "INTEGER", nullable: false),
                    valid_from = table.Column<long>(type: "INTEGER", nullable: false),
                    valid_to = table.Column<long>(type: "INTEGER", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_coupons_templates", x => x.id);
                    table.CheckConstraint("ck_templates_claimed", "claimed >= 0 AND claimed <= total_quantity");
                    table.CheckConstraint("ck_templates_value", "value > 0 AND min_spend >= 0");
                });

            migrationBuilder.CreateIndex(
                name: "ix_coupons_coupons_template_id",
                table: "coupons_coupons",
                column: "template_id");

            migrationBuilder.CreateIndex(
                name: "ix_coupons_coupons_user_id_template_id",
                table: "coupons_coupons",
                columns: new[] { "user_id", "template_id" });

            migrationBuilder.CreateIndex(
                name: "ix_coupons_idempotency_records_created_at",
                table: "coupons_idempotency_records",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_coupons_outbox_messages_aggregate_id_sequence",
                table: "coupons_outbox_messages",
                columns: new[] { "aggregate_id", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_coupons_outbox_messages_id",
                table: "coupons_outbox_messages",
                column: "id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_coupons_outbox_messages_sent_at_dead_lettered_at_sequence",
                table: "coupons_outbox_messages",
                columns: new[] { "sent_at", "dead_lettered_at", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_coupons_processed_messages_processed_at",
                table: "coupons_processed_messages",
                column: "processed_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "coupons_coupons");

            migrationBuilder.DropTable(
                name: "coupons_idempotency_records");

            migrationBuilder.DropTable(
                name: "coupons_outbox_leases");

            migrationBuilder.DropTable(
                name: "coupons_outbox_messages");

            migrationBuilder.DropTable(
                name: "coupons_processed_messages");

            migrationBuilder.DropTable(
                name: "coupons_templates");
        }
    }
}
