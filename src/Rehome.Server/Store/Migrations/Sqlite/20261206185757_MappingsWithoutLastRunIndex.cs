using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class MappingsWithoutLastRunIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_mappings_last_run_id",
                table: "mappings");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_mappings_last_run_id",
                table: "mappings",
                column: "last_run_id");
        }
    }
}
