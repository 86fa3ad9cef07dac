using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlashMall.Circle.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "circle_comments",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    post_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    author_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    text = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_circle_comments", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "circle_follows",
                columns: table => new
                {
                    follower_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    followee_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_circle_follows", x => new { x.follower_id, x.followee_id });
                });

            migrationBuilder.CreateTable(
                name: "circle_likes",
                columns: table => new
                {
                    post_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_circle_likes", x => new { x.post_id, x.user_id });
                });

            migrationBuilder.CreateTable(
                name: "circle_outbox_leases",
                columns: table => new
                {
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    holder = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_circle_outbox_leases", x => x.name);
                });

            migrationBuilder.CreateTable(
                name: "circle_outbox_messages",
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
                    table.PrimaryKey("pk_circle_outbox_messages", x => x.sequence);
                });

            migrationBuilder.CreateTable(
                name: "circle_posts",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    author_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    text = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    product_ids = table.Column<string>(type: "TEXT", maxLength: 333, nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    sort_key = table.Column<string>(type: "TEXT", maxLength: 51, nullable: false),
                    likes = table.Column<int>(type: "INTEGER", nullable: false),
                    comments = table.Column<int>(type: "INTEGER", nullable: false),
                    reports = table.Column<int>(type: "INTEGER", nullable: false),
                    hidden = table.Column<bool>(type: "INTEGER", nullable: false),
                    deleted_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_circle_posts", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "circle_processed_messages",
                columns: table => new
                {
                    message_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    consumer = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    processed_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_circle_processed_messages", x => new { x.message_id, x.consumer });
                });

            migrationBuilder.CreateTable(
                name: "circle_reports",
                columns: table => new
                {
                    post_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    reason = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_circle_reports", x => new { x.post_id, x.user_id });
                });

            migrationBuilder.CreateTable(
                name: "circle_post_images",
                columns: table => new
                {
                    position = table.Column<int>(type: "INTEGER", nullable: false),
                    post_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    url = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    medium_url = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    thumb_url = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    width = table.Column<int>(type: "INTEGER", nullable: false),
                    height = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_circle_post_images", x => new { x.post_id, x.position });
                    table.ForeignKey(
                        name: "fk_circle_post_images_circle_posts_post_id",
                        column: x => x.post_id,
                        principalTable: "circle_posts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_circle_comments_post_id_created_at",
                table: "circle_comments",
                columns: new[] { "post_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_circle_follows_followee_id",
                table: "circle_follows",
                column: "followee_id");

            migrationBuilder.CreateIndex(
                name: "ix_circle_outbox_messages_aggregate_id_sequence",
                table: "circle_outbox_messages",
                columns: new[] { "aggregate_id", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_circle_outbox_messages_id",
                table: "circle_outbox_messages",
                column: "id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_circle_outbox_messages_sent_at_dead_lettered_at_sequence",
                table: "circle_outbox_messages",
                columns: new[] { "sent_at", "dead_lettered_at", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_circle_posts_author_id_sort_key",
                table: "circle_posts",
                columns: new[] { "author_id", "sort_key" });

            migrationBuilder.CreateIndex(
                name: "ix_circle_posts_sort_key",
                table: "circle_posts",
                column: "sort_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_circle_processed_messages_processed_at",
                table: "circle_processed_messages",
                column: "processed_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "circle_comments");

            migrationBuilder.DropTable(
                name: "circle_follows");

            migrationBuilder.DropTable(
                name: "circle_likes");

            migrationBuilder.DropTable(
                name: "circle_outbox_leases");

            migrationBuilder.DropTable(
                name: "circle_outbox_messages");

            migrationBuilder.DropTable(
                name: "circle_post_images");

            migrationBuilder.DropTable(
                name: "circle_processed_messages");

            migrationBuilder.DropTable(
                name: "circle_reports");

            migrationBuilder.DropTable(
                name: "circle_posts");
        }
    }
}
