using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AccountRoles : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The administrators become accounts (every existing one keeps its rights as an Administrator).
            migrationBuilder.DropForeignKey(
                name: "fk_api_tokens_administrators_account_id",
                table: "api_tokens");

            migrationBuilder.DropPrimaryKey(name: "pk_administrators", table: "administrators");
            migrationBuilder.DropIndex(name: "ix_administrators_user_name", table: "administrators");
            migrationBuilder.RenameTable(name: "administrators", newName: "accounts");
            migrationBuilder.AddPrimaryKey(name: "pk_accounts", table: "accounts", column: "id");

            migrationBuilder.AlterColumn<string>(
                name: "user_name",
                table: "accounts",
                type: "TEXT",
                maxLength: 100,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<string>(
                name: "password_hash",
                table: "accounts",
                type: "TEXT",
                nullable: true,
                oldClrType: typeof(string),
                oldType: "TEXT");

            migrationBuilder.AddColumn<string>(
                name: "role",
                table: "accounts",
                type: "TEXT",
                maxLength: 20,
                nullable: false,
                defaultValue: "Administrator");

            migrationBuilder.AddColumn<long>(
                name: "disabled_at",
                table: "accounts",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "security_stamp",
                table: "accounts",
                type: "TEXT",
                maxLength: 64,
                nullable: false,
                defaultValue: "");

            // Each account its own stamp: a shared one would not tell accounts' cookies apart.
            migrationBuilder.Sql("UPDATE accounts SET security_stamp = lower(hex(randomblob(16)));");

            migrationBuilder.AddColumn<string>(
                name: "external_issuer",
                table: "accounts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "external_subject",
                table: "accounts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "scope",
                table: "api_tokens",
                type: "TEXT",
                maxLength: 20,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "account_projects",
                columns: table => new
                {
                    account_id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    project_id = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_account_projects", x => new { x.account_id, x.project_id });
                    table.ForeignKey(
                        name: "fk_account_projects_accounts_account_id",
                        column: x => x.account_id,
                        principalTable: "accounts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_account_projects_projects_project_id",
                        column: x => x.project_id,
                        principalTable: "projects",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_account_projects_project_id",
                table: "account_projects",
                column: "project_id");


            migrationBuilder.CreateIndex(
                name: "ix_accounts_external_issuer_external_subject",
                table: "accounts",
                columns: new[] { "external_issuer", "external_subject" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_accounts_user_name",
                table: "accounts",
                column: "user_name",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "fk_api_tokens_accounts_account_id",
                table: "api_tokens",
                column: "account_id",
                principalTable: "accounts",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(name: "fk_api_tokens_accounts_account_id", table: "api_tokens");
            migrationBuilder.DropTable(name: "account_projects");
            migrationBuilder.DropIndex(name: "ix_accounts_external_issuer_external_subject", table: "accounts");
            migrationBuilder.DropIndex(name: "ix_accounts_user_name", table: "accounts");
            migrationBuilder.DropColumn(name: "scope", table: "api_tokens");
            migrationBuilder.DropColumn(name: "role", table: "accounts");
            migrationBuilder.DropColumn(name: "disabled_at", table: "accounts");
            migrationBuilder.DropColumn(name: "security_stamp", table: "accounts");
            migrationBuilder.DropColumn(name: "external_issuer", table: "accounts");
            migrationBuilder.DropColumn(name: "external_subject", table: "accounts");
            // Accounts made by single sign-on have no password and cannot be administrators of the older schema.
            migrationBuilder.Sql("DELETE FROM accounts WHERE password_hash IS NULL;");
            migrationBuilder.DropPrimaryKey(name: "pk_accounts", table: "accounts");
            migrationBuilder.RenameTable(name: "accounts", newName: "administrators");
            migrationBuilder.AddPrimaryKey(name: "pk_administrators", table: "administrators", column: "id");
            migrationBuilder.CreateIndex(name: "ix_administrators_user_name", table: "administrators", column: "user_name", unique: true);
            migrationBuilder.AddForeignKey(
                name: "fk_api_tokens_administrators_account_id",
                table: "api_tokens",
                column: "account_id",
                principalTable: "administrators",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
