namespace Rehome.Core.Cleanup;

/// <summary>Why an archive, an unarchive or a change to an archived project is refused: a stable rule and what to do.</summary>
public sealed record ArchiveRefusal(string Rule, string Message);

/// <summary>What an archived project refuses; each has a rule of its own so that automation can tell them apart.</summary>
public enum ArchivedAction
{
    Run,
    Import,
    EditProject,
    EditMapping,
    RemoveMappings,
}

/// <summary>
/// When a project may be archived (nothing waits or runs) and what an archived project refuses: runs, imports and
/// edits, each with a rule naming it. Pure: the API, the console and the CLI get the same answer.
/// </summary>
public static class ArchiveRules
{
    public const string ProjectArchived = "ProjectArchived";
    public const string ProjectNotArchived = "ProjectNotArchived";
    public const string ProjectHasActiveJobs = "ProjectHasActiveJobs";
    public const string ProjectChangedWhileArchiving = "ProjectChangedWhileArchiving";

    /// <summary>Null when the project may be archived now, else why not.</summary>
    public static ArchiveRefusal? CheckArchive(string projectName, bool archived, int activeJobs) =>
        archived ? new(ProjectArchived, $"The project '{projectName}' is archived already.")
        : activeJobs > 0 ? new(ProjectHasActiveJobs,
            $"The project '{projectName}' has {activeJobs} job(s) waiting or in progress; stop them or let them end before archiving it.")
        : null;

    /// <summary>
    /// Null when the zip rendered before the project's lock still tells the truth under it (the same runs and mappings),
    /// else why the archive is not kept.
    /// </summary>
    public static ArchiveRefusal? CheckUnchanged(string projectName, bool unchanged) => unchanged ? null : new(ProjectChangedWhileArchiving,
        $"The project '{projectName}' changed while its reports were rendered (a run or a mapping came or went); archive it again.");

    /// <summary>Null when the project may be unarchived, else why not.</summary>
    public static ArchiveRefusal? CheckUnarchive(string projectName, bool archived) =>
        archived ? null : new(ProjectNotArchived, $"The project '{projectName}' is not archived.");

    /// <summary>The refusal of <paramref name="action"/> on an archived project; null when it is not archived.</summary>
    public static ArchiveRefusal? CheckChange(string projectName, bool archived, ArchivedAction action) => !archived ? null : new(
        RuleOf(action),
        $"The project '{projectName}' is archived: {What(action)} An administrator unarchives it first.");

    /// <summary>The stable rule of each refusal, e.g. <c>ProjectArchivedNoRuns</c>.</summary>
    public static string RuleOf(ArchivedAction action) => action switch
    {
        ArchivedAction.Run => "ProjectArchivedNoRuns",
        ArchivedAction.Import => "ProjectArchivedNoImports",
        ArchivedAction.EditProject => "ProjectArchivedReadOnly",
        ArchivedAction.EditMapping => "ProjectArchivedMappingsReadOnly",
        ArchivedAction.RemoveMappings => "ProjectArchivedMappingsReadOnly",
        _ => ProjectArchived,
    };

    private static string What(ArchivedAction action) => action switch
    {
        ArchivedAction.Run => "no run, re-run or revert starts in it.",
        ArchivedAction.Import => "no mappings are imported into it.",
        ArchivedAction.EditProject => "it cannot be changed.",
        _ => "its mappings cannot be added, changed, moved or removed.",
    };
}
