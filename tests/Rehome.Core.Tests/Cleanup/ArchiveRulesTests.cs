using Rehome.Core.Cleanup;

namespace Rehome.Core.Tests.Cleanup;

public sealed class ArchiveRulesTests
{
    [Fact]
    public void A_project_with_nothing_active_may_be_archived()
    {
        Assert.Null(ArchiveRules.CheckArchive("Contoso", archived: false, activeJobs: 0));
    }

    [Fact]
    public void A_project_with_active_jobs_is_not_archived_and_the_refusal_counts_them()
    {
        var refusal = ArchiveRules.CheckArchive("Contoso", archived: false, activeJobs: 3);

        Assert.Equal(ArchiveRules.ProjectHasActiveJobs, refusal?.Rule);
        Assert.Contains("3 job(s)", refusal!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_archived_project_is_not_archived_twice_nor_unarchived_when_it_is_not()
    {
        Assert.Equal(ArchiveRules.ProjectArchived, ArchiveRules.CheckArchive("Contoso", archived: true, activeJobs: 0)?.Rule);
        Assert.Equal(ArchiveRules.ProjectNotArchived, ArchiveRules.CheckUnarchive("Contoso", archived: false)?.Rule);
        Assert.Null(ArchiveRules.CheckUnarchive("Contoso", archived: true));
    }

    [Fact]
    public void Each_change_to_an_archived_project_is_refused_with_a_rule_naming_it()
    {
        Assert.Equal("ProjectArchivedNoRuns", ArchiveRules.CheckChange("C", true, ArchivedAction.Run)?.Rule);
        Assert.Equal("ProjectArchivedNoImports", ArchiveRules.CheckChange("C", true, ArchivedAction.Import)?.Rule);
        Assert.Equal("ProjectArchivedReadOnly", ArchiveRules.CheckChange("C", true, ArchivedAction.EditProject)?.Rule);
        Assert.Equal("ProjectArchivedMappingsReadOnly", ArchiveRules.CheckChange("C", true, ArchivedAction.EditMapping)?.Rule);
        Assert.All(Enum.GetValues<ArchivedAction>(), action => Assert.Null(ArchiveRules.CheckChange("C", false, action)));
    }

    [Fact]
    public void A_zip_rendered_before_the_lock_is_kept_only_when_the_project_did_not_change_meanwhile()
    {
        Assert.Null(ArchiveRules.CheckUnchanged("Contoso", unchanged: true));
        Assert.Equal(ArchiveRules.ProjectChangedWhileArchiving, ArchiveRules.CheckUnchanged("Contoso", unchanged: false)?.Rule);
    }
}
