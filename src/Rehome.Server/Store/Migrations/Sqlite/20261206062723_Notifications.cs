using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Notifications : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "notification_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    kind = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    project_id = table.Column<byte[]>(type: "BLOB", nullable: true),
                    occurred_at = table.Column<long>(type: "INTEGER", nullable: false),
                    data = table.Column<string>(type: "TEXT", nullable: false),
                    distributed = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_notification_events", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "notification_marks",
                columns: table => new
                {
                    key = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    run_id = table.Column<byte[]>(type: "BLOB", nullable: true),
                    at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_notification_marks", x => x.key);
                });

            migrationBuilder.CreateTable(
                name: "notification_subscriptions",
                columns: table => new
                {
                    id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    project_id = table.Column<byte[]>(type: "BLOB", nullable: true),
                    events = table.Column<string>(type: "TEXT", nullable: false),
                    channel = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    email_addresses = table.Column<string>(type: "TEXT", nullable: false),
                    webhook_url = table.Column<string>(type: "TEXT", nullable: true),
                    webhook_secret_protected = table.Column<string>(type: "TEXT", nullable: true),
                    enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_notification_subscriptions", x => x.id);
                    table.ForeignKey(
                        name: "fk_notification_subscriptions_projects_project_id",
                        column: x => x.project_id,
                        principalTable: "projects",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "notification_deliveries",
                columns: table => new
                {
                    id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    subscription_id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    status = table.Column<int>(type: "INTEGER", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    window_ends_at = table.Column<long>(type: "INTEGER", nullable: false),
                    event_count = table.Column<int>(type: "INTEGER", nullable: false),
                    payload = table.Column<string>(type: "TEXT", nullable: true),
                    is_test = table.Column<bool>(type: "INTEGER", nullable: false),
                    next_attempt_at = table.Column<long>(type: "INTEGER", nullable: true),
                    attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    delivered_at = table.Column<long>(type: "INTEGER", nullable: true),
                    last_status_code = table.Column<int>(type: "INTEGER", nullable: true),
                    last_error = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_notification_deliveries", x => x.id);
                    table.ForeignKey(
                        name: "fk_notification_deliveries_notification_subscriptions_subscription_id",
                        column: x => x.subscription_id,
                        principalTable: "notification_subscriptions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "notification_attempts",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    delivery_id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    number = table.Column<int>(type: "INTEGER", nullable: false),
                    at = table.Column<long>(type: "INTEGER", nullable: false),
                    succeeded = table.Column<bool>(type: "INTEGER", nullable: false),
                    status_code = table.Column<int>(type: "INTEGER", nullable: true),
                    error = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_notification_attempts", x => x.id);
                    table.ForeignKey(
                        name: "fk_notification_attempts_notification_deliveries_delivery_id",
                        column: x => x.delivery_id,
                        principalTable: "notification_deliveries",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "notification_delivery_events",
                columns: table => new
                {
                    delivery_id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    event_id = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_notification_delivery_events", x => new { x.delivery_id, x.event_id });
                    table.ForeignKey(
                        name: "fk_notification_delivery_events_notification_deliveries_delivery_id",
                        column: x => x.delivery_id,
                        principalTable: "notification_deliveries",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_notification_attempts_delivery_id",
                table: "notification_attempts",
                column: "delivery_id");

            migrationBuilder.CreateIndex(
                name: "ix_notification_deliveries_collecting",
                table: "notification_deliveries",
                column: "subscription_id",
                unique: true,
                filter: "status = 0");

            migrationBuilder.CreateIndex(
                name: "ix_notification_deliveries_status_next_attempt_at",
                table: "notification_deliveries",
                columns: new[] { "status", "next_attempt_at" });

            migrationBuilder.CreateIndex(
                name: "ix_notification_deliveries_subscription_id_created_at",
                table: "notification_deliveries",
                columns: new[] { "subscription_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_notification_delivery_events_event_id",
                table: "notification_delivery_events",
                column: "event_id");

            migrationBuilder.CreateIndex(
                name: "ix_notification_events_undistributed",
                table: "notification_events",
                column: "id",
                filter: "distributed = false");

            migrationBuilder.CreateIndex(
                name: "ix_notification_marks_run_id",
                table: "notification_marks",
                column: "run_id");

            migrationBuilder.CreateIndex(
                name: "ix_notification_subscriptions_name",
                table: "notification_subscriptions",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_notification_subscriptions_project_id",
                table: "notification_subscriptions",
                column: "project_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "notification_attempts");

            migrationBuilder.DropTable(
                name: "notification_delivery_events");

            migrationBuilder.DropTable(
                name: "notification_events");

            migrationBuilder.DropTable(
                name: "notification_marks");

            migrationBuilder.DropTable(
                name: "notification_deliveries");

            migrationBuilder.DropTable(
                name: "notification_subscriptions");
        }
    }
}
