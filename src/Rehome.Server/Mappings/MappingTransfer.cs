using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Cleanup;
using Rehome.Server.Administration;
using Rehome.Server.Api;
using Rehome.Server.Store;

namespace Rehome.Server.Mappings;

/// <summary>A project's mappings as CSV: the all-or-nothing import and the export, for the API and the console.</summary>
public sealed class MappingTransfer(RehomeDbContext db, MappingImporter importer, IOptions<ImportOptions> options)
{
    public long MaxBytes => options.Value.MaxBytes;

    /// <summary>Reads a CSV (at most <see cref="MaxBytes"/>) and imports its rows, or nothing and every bad row.</summary>
    public async Task<Outcome<ImportResult>> ImportAsync(Guid projectId, Stream csv, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Failure.NotFound($"Project {projectId}");
        }
        if (await ArchivedProjects.RefuseAsync(db, projectId, ArchivedAction.Import, ct) is { } archived)
        {
            return archived;
        }
        var limit = options.Value.MaxBytes;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await csv.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return TooLarge(limit);
            }
            buffer.Write(chunk, 0, read);
        }
        buffer.Position = 0;
        using var text = new StreamReader(buffer, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var (rows, errors, ignored) = MappingCsv.Parse(text, options.Value.MaxRows);
        if (errors.Count == 0 && rows.Count == 0)
        {
            errors.Add(new ImportError(2, null, "The file has a header but no mappings."));
        }
        var outcome = errors.Count > 0 ? new ImportOutcome(0, 0, errors) : await importer.ImportAsync(projectId, rows, ct);
        if (outcome.Refused is { } refused)
        {
            return Failure.Conflict(refused.Rule, refused.Message);
        }
        if (!outcome.Succeeded)
        {
            return Failure.ByRule(StatusCodes.Status400BadRequest, "The import has bad rows; nothing was imported", "ImportRejected",
                $"{outcome.Errors.Count} problem(s) in the file; nothing was imported. The first: row {outcome.Errors[0].Row}: {outcome.Errors[0].Reason}",
                new Dictionary<string, object?> { ["errors"] = outcome.Errors });
        }
        return new ImportResult(outcome.Created, outcome.Updated, ignored, IgnoredNote(ignored));
    }

    /// <summary>Says which columns were left alone, so that a misspelt column name does not pass unseen.</summary>
    private static string? IgnoredNote(IReadOnlyList<string> ignored) => ignored.Count switch
    {
        0 => null,
        1 => $"The column '{ignored[0]}' is not one of Rehome's ({string.Join(", ", MappingCsv.Columns)}) and was ignored.",
        _ => $"The columns {string.Join(", ", ignored.Select(c => $"'{c}'"))} are not Rehome's ({string.Join(", ", MappingCsv.Columns)}) and were ignored.",
    };

    public static Failure TooLarge(long limit) => Failure.ByRule(StatusCodes.Status413PayloadTooLarge, "The file is too large", "FileTooLarge",
        $"An import is at most {limit / (1024 * 1024)} MiB; split the file. Nothing was imported.");

    /// <summary>The mappings matching <paramref name="filter"/> as CSV, with a file name made from the project's.</summary>
    public async Task<Outcome<MappingExport>> ExportAsync(Guid projectId, MappingFilter filter, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null)
        {
            return Failure.NotFound($"Project {projectId}");
        }
        if (MappingQuery.Check(filter, null) is { } problem)
        {
            return Failure.Validation([problem]);
        }
        var mappings = await MappingQuery.Sort(MappingQuery.Apply(db, (await db.MappingsOfAsync(projectId, ct)).AsNoTracking(), filter), null)
            .ToListAsync(ct);
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        MappingCsv.Write(text, mappings);
        return new MappingExport($"{SafeFileName(project.Name)}-mappings.csv", text.ToString());
    }

    /// <summary>A project's name as part of a file name: letters, digits, - and _ (Content-Disposition adds the rest per RFC 6266).</summary>
    public static string SafeFileName(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '-'));
}

public sealed record MappingExport(string FileName, string Csv);
