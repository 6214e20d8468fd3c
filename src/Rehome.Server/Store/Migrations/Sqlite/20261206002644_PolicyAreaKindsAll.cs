using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PolicyAreaKindsAll : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // AreaKinds.All was 31 (shares, services, printers, local groups, user rights) until scheduled tasks (32)
            // and user hives (64) came; a policy that said "all" still means all. Other values were chosen box by box
            // and stay as they are. The settings are JSON with numeric kinds (RehomeDbContext.JsonOptions).
            foreach (var part in new[] { "areas", "areasToIgnore" })
            {
                migrationBuilder.Sql($"UPDATE policies SET settings = json_set(settings, '$.{part}.kinds', 127) WHERE json_extract(settings, '$.{part}.kinds') = 31;");
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var part in new[] { "areas", "areasToIgnore" })
            {
                migrationBuilder.Sql($"UPDATE policies SET settings = json_set(settings, '$.{part}.kinds', 31) WHERE json_extract(settings, '$.{part}.kinds') = 127;");
            }
        }
    }
}
