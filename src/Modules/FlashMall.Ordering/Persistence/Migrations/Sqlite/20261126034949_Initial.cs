using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Ordering.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ordering_idempotency_records",
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
                    table.PrimaryKey("pk_ordering_idempotency_records", x => new { x.scope, x.key });
                });

            migrationBuilder.CreateTable(
                name: "ordering_orders",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 24, nullable: false),
                    subtotal = table.Column<long>(type: "INTEGER", nullable: false),
                    discount = table.Column<long>(type: "INTEGER", nullable: false),
                    total = table.Column<long>(type: "INTEGER", nullable: false),
                    pay_before = table.Column<long>(type: "INTEGER", nullable: false),
                    flash_sale_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    reservation_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ordering_orders", x => x.id);
                    table.CheckConstraint("ck_orders_total", "total >= 0 AND total = subtotal - discount");
                });

            migrationBuilder.CreateTable(
                name: "ordering_outbox_leases",
                columns: table => new
                {
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    holder = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ordering_outbox_leases", x => x.name);
                });

            migrationBuilder.CreateTable(
                name: "ordering_outbox_messages",
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
                    table.PrimaryKey("pk_ordering_outbox_messages", x => x.sequence);
                });

            migrationBuilder.CreateTable(
                name: "ordering_processed_messages",
                columns: table => new
                {
                    message_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    consumer = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    processed_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ordering_processed_messages", x => new { x.message_id, x.consumer });
                });

            migrationBuilder.CreateTable(
                name: "ordering_order_lines",
                columns: table => new
                {
                    line_no = table.Column<int>(type: "INTEGER", nullable: false),
                    order_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    sku_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    product_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    product_name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    unit_price = table.Column<long>(type: "INTEGER", nullable: false),
                    quantity = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ordering_order_lines", x => new { x.order_id, x.line_no });
                    table.ForeignKey(
                        name: "fk_ordering_order_lines_ordering_orders_order_id",
                        column: x => x.order_id,
                        principalTable: "ordering_orders",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_ordering_idempotency_records_created_at",
                table: "ordering_idempotency_records",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_ordering_orders_reservation_id",
                table: "ordering_orders",
                column: "reservation_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_ordering_orders_status_pay_before",
                table: "ordering_orders",
                columns: new[] { "status", "pay_before" });

            migrationBuilder.CreateIndex(
                name: "ix_ordering_orders_user_id_created_at",
                table: "ordering_orders",
                columns: new[] { "user_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_ordering_outbox_messages_aggregate_id_sequence",
                table: "ordering_outbox_messages",
                columns: new[] { "aggregate_id", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_ordering_outbox_messages_id",
                table: "ordering_outbox_messages",
                column: "id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_ordering_outbox_messages_sent_at_dead_lettered_at_sequence",
                table: "ordering_outbox_messages",
                columns: new[] { "sent_at", "dead_lettered_at", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_ordering_processed_messages_processed_at",
                table: "ordering_processed_messages",
                column: "processed_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ordering_idempotency_records");

            migrationBuilder.DropTable(
                name: "ordering_order_lines");

            migrationBuilder.DropTable(
                name: "ordering_outbox_leases");

            migrationBuilder.DropTable(
                name: "ordering_outbox_messages");

            migrationBuilder.DropTable(
                name: "ordering_processed_messages");

            migrationBuilder.DropTable(
                name: "ordering_orders");
        }
    }
}
