using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class PolicyAreaKindsAll : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // AreaKinds.All was 31 (shares, services, printers, local groups, user rights) until scheduled tasks (32)
            // and user hives (64) came; a policy that said "all" still means all. Other values were chosen box by box
            // and stay as they are. The settings are JSON text with numeric kinds (RehomeDbContext.JsonOptions).
            foreach (var part in new[] { "areas", "areasToIgnore" })
            {
                migrationBuilder.Sql($"UPDATE policies SET settings = jsonb_set(settings::jsonb, '{{{part},kinds}}', '127')::text WHERE settings::jsonb #>> '{{{part},kinds}}' = '31';");
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var part in new[] { "areas", "areasToIgnore" })
            {
                migrationBuilder.Sql($"UPDATE policies SET settings = jsonb_set(settings::jsonb, '{{{part},kinds}}', '31')::text WHERE settings::jsonb #>> '{{{part},kinds}}' = '127';");
            }
        }
    }
}
