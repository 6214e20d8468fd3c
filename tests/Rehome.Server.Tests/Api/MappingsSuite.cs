using System.Net;
using System.Net.Http.Json;
using System.Text;
using Rehome.Server.Mappings;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>Mappings: CRUD, one project per device, CSV import and export, the grid's paging; on SQLite and PostgreSQL.</summary>
public abstract class MappingsSuite(ServerHost host)
{
    private HttpClient Client => host.Client;

    private static string Prefix() => "M" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();

    [Fact]
    public async Task A_device_can_be_in_one_project_only_and_moves_explicitly()
    {
        var first = await Client.CreateProjectAsync();
        var second = await Client.CreateProjectAsync();
        var device = Prefix();
        var mapping = await Client.PostJsonAsync($"/api/v1/projects/{first}/mappings", new { sourceDevice = device });
        Assert.Equal(device, mapping.GetProperty("destinationName").GetString());

        var conflict = await Client.PostJsonAsync($"/api/v1/projects/{second}/mappings", new { sourceDevice = device.ToLowerInvariant() }, HttpStatusCode.Conflict);
        Assert.Equal("DeviceInAnotherMapping", conflict.GetProperty("rule").GetString());

        var moved = await Client.PostJsonAsync($"/api/v1/mappings/{mapping.Id()}/move", new { projectId = second }, HttpStatusCode.OK);
        Assert.Equal(second, moved.GetProperty("projectId").GetGuid());
    }

    [Fact]
    public async Task Import_reads_headers_in_any_case_and_updates_devices_already_in_the_project()
    {
        var project = await Client.CreateProjectAsync();
        var p = Prefix();
        var csv = $"sourcedevice; DESTINATIONNAME ;DestinationOu;primaryuser;destinationuser\n{p}01;{p}01-NEW;OU=Laptops,DC=fabrikam,DC=example;CONTOSO\\ann;ann@fabrikam.example\n{p}02;;;;\n";

        var first = await Client.PostCsvAsync($"/api/v1/projects/{project}/mappings/import", csv);
        Assert.Equal(2, first.GetProperty("created").GetInt32());

        var again = await Client.PostCsvAsync($"/api/v1/projects/{project}/mappings/import", $"SourceDevice,DestinationName\n{p}02,{p}02-B\n");
        Assert.Equal(0, again.GetProperty("created").GetInt32());
        Assert.Equal(1, again.GetProperty("updated").GetInt32());

        var page = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?search={p}");
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([$"{p}01-NEW", $"{p}02-B"], items.Select(i => i.GetProperty("destinationName").GetString()));
        Assert.Equal("OU=Laptops,DC=fabrikam,DC=example", items[0].GetProperty("destinationOu").GetString());
    }

    [Fact]
    public async Task An_import_with_bad_rows_imports_nothing_and_names_every_bad_row()
    {
        var project = await Client.CreateProjectAsync();
        var other = await Client.CreateProjectAsync();
        var p = Prefix();
        await Client.PostJsonAsync($"/api/v1/projects/{other}/mappings", new { sourceDevice = $"{p}TAKEN" });
        var csv = new StringBuilder("SourceDevice,DestinationName,DestinationOU,PrimaryUser,DestinationUser\n")
            .Append($"{p}01,,,,\n")                        // row 2: good
            .Append($"{p}_BAD,,,,\n")                      // row 3: bad name
            .Append($"{p}01,,,,\n")                        // row 4: duplicate of row 2
            .Append($"{p}TAKEN,,,,\n")                     // row 5: in another project
            .Append($"{p}05,,Laptops,,\n")                 // row 6: bad OU
            .Append($"{p}06,,,CONTOSO\\ann,\n")            // row 7: user without destination user
            .Append(",DEST01,,,\n")                        // row 8: no device
            .ToString();

        var problem = await Client.PostCsvAsync($"/api/v1/projects/{project}/mappings/import", csv, HttpStatusCode.BadRequest);

        Assert.Equal("ImportRejected", problem.GetProperty("rule").GetString());
        var errors = problem.GetProperty("errors").EnumerateArray()
            .Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString())).ToList();
        Assert.Equal([(3, "SourceDevice"), (4, "SourceDevice"), (5, "SourceDevice"), (6, "DestinationOU"), (7, "DestinationUser"), (8, "SourceDevice")], errors);
        var reasons = string.Join(" ", problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("reason").GetString()));
        Assert.Contains("row 2", reasons, StringComparison.Ordinal);
        Assert.Contains("already in the project", reasons, StringComparison.Ordinal);
        var page = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings");
        Assert.Equal(0, page.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task An_import_leaves_columns_rehome_does_not_know_alone_and_names_them()
    {
        var project = await Client.CreateProjectAsync();
        var p = Prefix();

        var answer = await Client.PostCsvAsync($"/api/v1/projects/{project}/mappings/import", $"SourceDevice,Notes,DestinationName\n{p}01,ask Ann first,{p}01-NEW\n");

        Assert.Equal(1, answer.GetProperty("created").GetInt32());
        Assert.Equal(["Notes"], answer.GetProperty("ignoredColumns").EnumerateArray().Select(c => c.GetString()));
        Assert.Contains("'Notes'", answer.GetProperty("note").GetString(), StringComparison.Ordinal);
        var page = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?search={p}");
        Assert.Equal($"{p}01-NEW", page.GetProperty("items")[0].GetProperty("destinationName").GetString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Device,Name\nPC01,PC01\n", "The column 'SourceDevice' is required")]
    [InlineData("SourceDevice\n", "no mappings")]
    [InlineData("SourceDevice,DestinationName\n\"PC01,PC01\nPC02,\"PC\"02\"\n", "quotation mark out of place")]
    public async Task A_malformed_file_is_rejected_with_the_reason(string csv, string expected)
    {
        var project = await Client.CreateProjectAsync();

        var problem = await Client.PostCsvAsync($"/api/v1/projects/{project}/mappings/import", csv, HttpStatusCode.BadRequest);

        var reason = problem.GetProperty("errors")[0].GetProperty("reason").GetString();
        Assert.Contains(expected, reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_over_the_limit_is_refused_as_too_large()
    {
        var project = await Client.CreateProjectAsync();
        var big = "SourceDevice\n" + string.Concat(Enumerable.Repeat("PC0000000000001\n", 2_300_000));

        // Expect: 100-continue lets the server refuse the file before it is sent, as the CLI does.
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/projects/{project}/mappings/import")
        {
            Content = new StringContent(big, Encoding.UTF8, "text/csv"),
        };
        request.Headers.ExpectContinue = true;
        var problem = await (await Client.SendAsync(request)).JsonAsync(HttpStatusCode.RequestEntityTooLarge);

        Assert.Equal("FileTooLarge", problem.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task Export_writes_what_import_reads()
    {
        var project = await Client.CreateProjectAsync();
        var p = Prefix();
        await Client.ImportDevicesAsync(project, p, 3);

        var csv = await Client.GetStringAsync(new Uri($"/api/v1/projects/{project}/mappings/export", UriKind.Relative));

        var lines = csv.Trim().Split('\n');
        Assert.Equal("SourceDevice,DestinationName,DestinationOU,PrimaryUser,DestinationUser,Stage,Status", lines[0].Trim());
        Assert.Equal($"{p}0001,{p}0001,,CONTOSO\\user1,user1@fabrikam.example,,", lines[1].Trim());
        var reimport = await Client.PostCsvAsync($"/api/v1/projects/{project}/mappings/import", csv);
        Assert.Equal(3, reimport.GetProperty("updated").GetInt32());
    }

    [Fact]
    public async Task Export_of_a_project_named_in_any_letters_names_its_file_per_rfc_6266()
    {
        var project = await Client.CreateProjectAsync();
        var name = $"Überprüfung Zürich ✓ {Prefix()}";
        await Client.RenameProjectAsync(project, name);

        using var answer = await Client.GetAsync(new Uri($"/api/v1/projects/{project}/mappings/export", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("text/csv", answer.Content.Headers.ContentType?.MediaType);
        ExportFileName.AssertNames(answer, name);
    }

    [Fact]
    public async Task Export_guards_cells_a_spreadsheet_would_run_as_formulas_and_import_reads_them_back()
    {
        var project = await Client.CreateProjectAsync();
        var device = "-" + Prefix();
        await Client.PostJsonAsync($"/api/v1/projects/{project}/mappings", new { sourceDevice = device });

        var csv = await Client.GetStringAsync(new Uri($"/api/v1/projects/{project}/mappings/export", UriKind.Relative));

        Assert.Contains($"'{device},'{device},", csv, StringComparison.Ordinal);
        var reimport = await Client.PostCsvAsync($"/api/v1/projects/{project}/mappings/import", csv);
        Assert.Equal(1, reimport.GetProperty("updated").GetInt32());
        var page = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings");
        Assert.Equal(device, page.GetProperty("items")[0].GetProperty("sourceDevice").GetString());
    }

    [Fact]
    public async Task The_mapping_list_pages_filters_and_sorts()
    {
        var project = await Client.CreateProjectAsync();
        var p = Prefix();
        await Client.ImportDevicesAsync(project, p, 25);

        var page2 = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?page=2&pageSize=10&sort=-sourceDevice");
        Assert.Equal(25, page2.GetProperty("total").GetInt32());
        Assert.Equal($"{p}0015", page2.GetProperty("items")[0].GetProperty("sourceDevice").GetString());

        var search = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?search=user2%40fabrikam");
        Assert.Equal([$"{p}0002"], search.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("sourceDevice").GetString()));

        var notStarted = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?status=NotStarted&pageSize=1");
        Assert.Equal(25, notStarted.GetProperty("total").GetInt32());

        var bad = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?status=Sleeping", HttpStatusCode.BadRequest);
        Assert.Contains("not a status", bad.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Project_counts_mappings_by_status()
    {
        var project = await Client.CreateProjectAsync();
        await Client.ImportDevicesAsync(project, Prefix(), 4);

        var view = await Client.GetJsonAsync($"/api/v1/projects/{project}");

        Assert.Equal(4, view.GetProperty("mappingCount").GetInt32());
        Assert.Equal(4, view.GetProperty("mappingsByStatus").GetProperty("NotStarted").GetInt32());
    }

    [Fact]
    public async Task A_mapping_update_is_validated_like_a_new_one()
    {
        var project = await Client.CreateProjectAsync();
        var mapping = await Client.PostJsonAsync($"/api/v1/projects/{project}/mappings", new { sourceDevice = Prefix() });

        var response = await Client.PutAsJsonAsync($"/api/v1/mappings/{mapping.Id()}", new { sourceDevice = "BAD NAME!" }, ServerHost.Json);

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal("ComputerName", problem.GetProperty("rule").GetString());
    }
}

public sealed class MappingsOnSqlite(SqliteServer server) : MappingsSuite(server.Host), IClassFixture<SqliteServer>;

public sealed class MappingsOnPostgres(PostgresServer server) : MappingsSuite(server.Host), IClassFixture<PostgresServer>
{
    /// <summary>
    /// PostgreSQL plans the list's pages from its statistics of the table, which autovacuum renews only a while after a
    /// large import (a sorted page of 100,000 new mappings took 100 ms instead of 5 until then, in bench/Rehome.Bench).
    /// </summary>
    [Fact]
    public async Task A_large_import_renews_the_statistics_of_the_mappings_at_once()
    {
        var project = await server.Host.Client.CreateProjectAsync();
        var before = await LastAnalyzeAsync();

        await server.Host.Client.ImportDevicesAsync(project, "S" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant(), MappingImporter.AnalyzeAfter);

        Assert.True(await LastAnalyzeAsync() > before);
    }

    private async Task<DateTime> LastAnalyzeAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(server.Host.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT coalesce(last_analyze, 'epoch') FROM pg_stat_user_tables WHERE relname = 'mappings'", connection);
        return (DateTime)(await command.ExecuteScalarAsync())!;
    }
}
