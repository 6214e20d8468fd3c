using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Rehome.Server.Store.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "administrators",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_name = table.Column<string>(type: "text", nullable: false),
                    password_hash = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_administrators", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "agents",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    connection_id = table.Column<Guid>(type: "uuid", nullable: false),
                    device_name = table.Column<string>(type: "text", nullable: false),
                    device_key = table.Column<string>(type: "text", nullable: false),
                    credential_hash = table.Column<string>(type: "text", nullable: false),
                    os_version = table.Column<string>(type: "text", nullable: false),
                    agent_version = table.Column<string>(type: "text", nullable: false),
                    join_type = table.Column<string>(type: "text", nullable: false),
                    domain_name = table.Column<string>(type: "text", nullable: true),
                    tenant_id = table.Column<string>(type: "text", nullable: true),
                    entra_device_id = table.Column<string>(type: "text", nullable: true),
                    logged_on_users = table.Column<string>(type: "text", nullable: false),
                    profile_sids = table.Column<string>(type: "text", nullable: false),
                    free_disk_space_bytes = table.Column<long>(type: "bigint", nullable: true),
                    enrolled_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_seen_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    revoked_by = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agents", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "audit_log",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    actor = table.Column<string>(type: "text", nullable: false),
                    action = table.Column<string>(type: "text", nullable: false),
                    target = table.Column<string>(type: "text", nullable: false),
                    details = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_audit_log", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "connections",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    role = table.Column<int>(type: "integer", nullable: false),
                    kind = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    configuration_key_hash = table.Column<string>(type: "text", nullable: true),
                    configuration_key_rotated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    break_glass_administrator_name = table.Column<string>(type: "text", nullable: true),
                    break_glass_administrator_password_protected = table.Column<string>(type: "text", nullable: true),
                    entra_tenant_id = table.Column<string>(type: "text", nullable: true),
                    entra_client_id = table.Column<string>(type: "text", nullable: true),
                    entra_client_secret_protected = table.Column<string>(type: "text", nullable: true),
                    entra_enabled = table.Column<bool>(type: "boolean", nullable: false),
                    domain_dns_name = table.Column<string>(type: "text", nullable: true),
                    domain_controller = table.Column<string>(type: "text", nullable: true),
                    use_ldaps = table.Column<bool>(type: "boolean", nullable: false),
                    service_account_name = table.Column<string>(type: "text", nullable: true),
                    service_account_password_protected = table.Column<string>(type: "text", nullable: true),
                    target_ou = table.Column<string>(type: "text", nullable: true),
                    rejoin_method = table.Column<int>(type: "integer", nullable: false),
                    bulk_enrollment_package = table.Column<string>(type: "text", nullable: true),
                    bulk_enrollment_token_expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_connections", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "data_protection_keys",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    friendly_name = table.Column<string>(type: "text", nullable: true),
                    xml = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_data_protection_keys", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "job_items",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    item = table.Column<string>(type: "text", nullable: false),
                    outcome = table.Column<string>(type: "text", nullable: false),
                    error = table.Column<string>(type: "text", nullable: true),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_job_items", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "job_log_lines",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    sequence = table.Column<long>(type: "bigint", nullable: false),
                    line_number = table.Column<int>(type: "integer", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    level = table.Column<string>(type: "text", nullable: false),
                    text = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_job_log_lines", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "jobs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    project_id = table.Column<Guid>(type: "uuid", nullable: false),
                    mapping_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<int>(type: "integer", nullable: false),
                    status = table.Column<int>(type: "integer", nullable: false),
                    needs_destination_preparation = table.Column<bool>(type: "boolean", nullable: false),
                    prerequisite_job_id = table.Column<Guid>(type: "uuid", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    items_done = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    items_total = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    items_changed = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    items_failed = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    error_code = table.Column<string>(type: "text", nullable: true),
                    error_message = table.Column<string>(type: "text", nullable: true),
                    stop_requested = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    lease_owner = table.Column<Guid>(type: "uuid", nullable: true),
                    lease_token = table.Column<Guid>(type: "uuid", nullable: true),
                    lease_expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    agent_id = table.Column<Guid>(type: "uuid", nullable: true),
                    step = table.Column<string>(type: "text", nullable: true),
                    message = table.Column<string>(type: "text", nullable: true),
                    destination_payload_protected = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_jobs", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "policies",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    settings = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_policies", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "api_tokens",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    account_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    prefix = table.Column<string>(type: "text", nullable: false),
                    token_hash = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_used_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_api_tokens", x => x.id);
                    table.ForeignKey(
                        name: "fk_api_tokens_administrators_account_id",
                        column: x => x.account_id,
                        principalTable: "administrators",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "projects",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    tags = table.Column<string>(type: "text", nullable: false),
                    source_connection_id = table.Column<Guid>(type: "uuid", nullable: false),
                    destination_connection_id = table.Column<Guid>(type: "uuid", nullable: false),
                    policy_id = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_projects", x => x.id);
                    table.ForeignKey(
                        name: "fk_projects_connections_destination_connection_id",
                        column: x => x.destination_connection_id,
                        principalTable: "connections",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_projects_connections_source_connection_id",
                        column: x => x.source_connection_id,
                        principalTable: "connections",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_projects_policies_policy_id",
                        column: x => x.policy_id,
                        principalTable: "policies",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "mappings",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    project_id = table.Column<Guid>(type: "uuid", nullable: false),
                    source_device = table.Column<string>(type: "text", nullable: false),
                    source_device_key = table.Column<string>(type: "text", nullable: false),
                    destination_name = table.Column<string>(type: "text", nullable: false),
                    destination_ou = table.Column<string>(type: "text", nullable: true),
                    primary_user = table.Column<string>(type: "text", nullable: true),
                    destination_user = table.Column<string>(type: "text", nullable: true),
                    agent_id = table.Column<Guid>(type: "uuid", nullable: true),
                    stage = table.Column<int>(type: "integer", nullable: true),
                    status = table.Column<int>(type: "integer", nullable: true),
                    last_job_id = table.Column<Guid>(type: "uuid", nullable: true),
                    last_run_id = table.Column<Guid>(type: "uuid", nullable: true),
                    items_done = table.Column<int>(type: "integer", nullable: false),
                    items_total = table.Column<int>(type: "integer", nullable: false),
                    rejoined_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_mappings", x => x.id);
                    table.ForeignKey(
                        name: "fk_mappings_projects_project_id",
                        column: x => x.project_id,
                        principalTable: "projects",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "runs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    project_id = table.Column<Guid>(type: "uuid", nullable: false),
                    requested_by = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    start_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    released_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    kinds = table.Column<string>(type: "text", nullable: false),
                    mapping_count = table.Column<int>(type: "integer", nullable: false),
                    job_count = table.Column<int>(type: "integer", nullable: false),
                    rerun_of = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_runs", x => x.id);
                    table.ForeignKey(
                        name: "fk_runs_projects_project_id",
                        column: x => x.project_id,
                        principalTable: "projects",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_administrators_user_name",
                table: "administrators",
                column: "user_name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_agents_device_key",
                table: "agents",
                column: "device_key");

            migrationBuilder.CreateIndex(
                name: "ix_agents_last_seen_at",
                table: "agents",
                column: "last_seen_at");

            migrationBuilder.CreateIndex(
                name: "ix_api_tokens_account_id",
                table: "api_tokens",
                column: "account_id");

            migrationBuilder.CreateIndex(
                name: "ix_api_tokens_token_hash",
                table: "api_tokens",
                column: "token_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_at",
                table: "audit_log",
                column: "at");

            migrationBuilder.CreateIndex(
                name: "ix_connections_name",
                table: "connections",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_job_items_job_id",
                table: "job_items",
                column: "job_id");

            migrationBuilder.CreateIndex(
                name: "ix_job_log_lines_job_id_sequence_line_number",
                table: "job_log_lines",
                columns: new[] { "job_id", "sequence", "line_number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_jobs_mapping_id_status",
                table: "jobs",
                columns: new[] { "mapping_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_jobs_run_id_mapping_id",
                table: "jobs",
                columns: new[] { "run_id", "mapping_id" });

            migrationBuilder.CreateIndex(
                name: "ix_jobs_running_lease_expires_at",
                table: "jobs",
                column: "lease_expires_at",
                filter: "status = 5");

            migrationBuilder.CreateIndex(
                name: "ix_mappings_last_run_id",
                table: "mappings",
                column: "last_run_id");

            migrationBuilder.CreateIndex(
                name: "ix_mappings_project_id_destination_name",
                table: "mappings",
                columns: new[] { "project_id", "destination_name" });

            migrationBuilder.CreateIndex(
                name: "ix_mappings_project_id_source_device_key",
                table: "mappings",
                columns: new[] { "project_id", "source_device_key" });

            migrationBuilder.CreateIndex(
                name: "ix_mappings_project_id_stage",
                table: "mappings",
                columns: new[] { "project_id", "stage" });

            migrationBuilder.CreateIndex(
                name: "ix_mappings_project_id_status",
                table: "mappings",
                columns: new[] { "project_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_mappings_source_device_key",
                table: "mappings",
                column: "source_device_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_policies_name",
                table: "policies",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_projects_destination_connection_id",
                table: "projects",
                column: "destination_connection_id");

            migrationBuilder.CreateIndex(
                name: "ix_projects_name",
                table: "projects",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_projects_policy_id",
                table: "projects",
                column: "policy_id");

            migrationBuilder.CreateIndex(
                name: "ix_projects_source_connection_id",
                table: "projects",
                column: "source_connection_id");

            migrationBuilder.CreateIndex(
                name: "ix_runs_project_id_created_at",
                table: "runs",
                columns: new[] { "project_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_runs_released_at",
                table: "runs",
                column: "released_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "agents");

            migrationBuilder.DropTable(
                name: "api_tokens");

            migrationBuilder.DropTable(
                name: "audit_log");

            migrationBuilder.DropTable(
                name: "data_protection_keys");

            migrationBuilder.DropTable(
                name: "job_items");

            migrationBuilder.DropTable(
                name: "job_log_lines");

            migrationBuilder.DropTable(
                name: "jobs");

            migrationBuilder.DropTable(
                name: "mappings");

            migrationBuilder.DropTable(
                name: "runs");

            migrationBuilder.DropTable(
                name: "administrators");

            migrationBuilder.DropTable(
                name: "projects");

            migrationBuilder.DropTable(
                name: "connections");

            migrationBuilder.DropTable(
                name: "policies");
        }
    }
}
