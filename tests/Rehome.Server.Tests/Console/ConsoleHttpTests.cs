using System.Net;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Console;

/// <summary>The console's own endpoints (form posts, the grid's export) over plain HTTP with its cookie.</summary>
public sealed class ConsoleHttpTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private ServerHost Host => server.Host;

    [Fact]
    public async Task The_grid_export_of_a_project_named_in_any_letters_names_its_file_per_rfc_6266()
    {
        var project = await Host.Client.CreateProjectAsync();
        var name = $"Überprüfung Zürich ✓ {Guid.NewGuid().ToString("N")[..6]}";
        await Host.Client.RenameProjectAsync(project, name);
        using var console = await ConsoleClient.SignInAsync(Host);

        using var answer = await console.Http.GetAsync(new Uri($"/console/projects/{project}/mappings.csv", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        ExportFileName.AssertNames(answer, name);
    }
}
