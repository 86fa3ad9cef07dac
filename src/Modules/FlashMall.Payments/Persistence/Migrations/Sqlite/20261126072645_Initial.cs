using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Payments.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "payments_idempotency_records",
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
                    table.PrimaryKey("pk_payments_idempotency_records", x => new { x.scope, x.key });
                });

            migrationBuilder.CreateTable(
                name: "payments_outbox_leases",
                columns: table => new
                {
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    holder = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_payments_outbox_leases", x => x.name);
                });

            migrationBuilder.CreateTable(
                name: "payments_outbox_messages",
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
                    table.PrimaryKey("pk_payments_outbox_messages", x => x.sequence);
                });

            migrationBuilder.CreateTable(
                name: "payments_payments",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    order_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    amount = table.Column<long>(type: "INTEGER", nullable: false),
                    currency = table.Column<string>(type: "TEXT", maxLength: 3, nullable: false),
                    method = table.Column<string>(type: "TEXT", maxLength: 24, nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    provider_ref = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    pay_url = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    reason = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_payments_payments", x => x.id);
                    table.CheckConstraint("ck_payments_amount", "amount > 0");
                });

            migrationBuilder.CreateTable(
                name: "payments_processed_messages",
                columns: table => new
                {
                    message_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    consumer = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    processed_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_payments_processed_messages", x => new { x.message_id, x.consumer });
                });

            migrationBuilder.CreateTable(
                name: "payments_webhook_events",
                columns: table => new
                {
                    event_id = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    type = table.Column<string>(type: "TEXT", maxLength: 50, nullable: false),
                    payment_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    received_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_payments_webhook_events", x => x.event_id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_payments_idempotency_records_created_at",
                table: "payments_idempotency_records",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_payments_outbox_messages_aggregate_id_sequence",
                table: "payments_outbox_messages",
                columns: new[] { "aggregate_id", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_payments_outbox_messages_id",
                table: "payments_outbox_messages",
                column: "id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_payments_outbox_messages_sent_at_dead_lettered_at_sequence",
                table: "payments_outbox_messages",
                columns: new[] { "sent_at", "dead_lettered_at", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_payments_payments_order_id",
                table: "payments_payments",
                column: "order_id");

            migrationBuilder.CreateIndex(
                name: "ix_payments_payments_order_id1",
                table: "payments_payments",
                column: "order_id",
                unique: true,
                filter: "status IN ('creating', 'pending', 'unknown')");

            migrationBuilder.CreateIndex(
                name: "ix_payments_payments_status_updated_at",
                table: "payments_payments",
                columns: new[] { "status", "updated_at" });

            migrationBuilder.CreateIndex(
                name: "ix_payments_processed_messages_processed_at",
                table: "payments_processed_messages",
                column: "processed_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "payments_idempotency_records");

            migrationBuilder.DropTable(
                name: "payments_outbox_leases");

            migrationBuilder.DropTable(
                name: "payments_outbox_messages");

            migrationBuilder.DropTable(
                name: "payments_payments");

            migrationBuilder.DropTable(
                name: "payments_processed_messages");

            migrationBuilder.DropTable(
                name: "payments_webhook_events");
        }
    }
}
