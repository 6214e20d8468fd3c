using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DeviceIdentity : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "approval",
                table: "agents",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "enrolled_from",
                table: "agents",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "hardware_id",
                table: "agents",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "proof_signed_at",
                table: "agents",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "public_key",
                table: "agents",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "approval",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "enrolled_from",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "hardware_id",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "proof_signed_at",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "public_key",
                table: "agents");
        }
    }
}
