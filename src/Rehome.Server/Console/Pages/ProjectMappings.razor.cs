using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.Components.Web.Virtualization;
using Rehome.Core.Runs;
using Rehome.Server.Administration;
using Rehome.Server.Api;
using Rehome.Server.Auth;
using Rehome.Server.Console.Shared;
using Rehome.Server.Directories;
using Rehome.Server.Directories.Connected;
using Rehome.Server.Mappings;
using Rehome.Server.Runs;

namespace Rehome.Server.Console.Pages;

/// <summary>
/// The project mappings grid: filter, sort, search, a virtualised window of rows read from the store as it
/// scrolls, selection (rows, the visible rows, or all matching the filter), the Migration menu with its
/// confirmation, stop, import and export. Visible rows refresh every second, so statuses move as agents report.
/// The page is prerendered with its first rows (they are in the first HTML response, before the circuit connects);
/// what the prerender read is handed to the interactive render (<see cref="PersistentComponentState"/>) instead of
/// being read again.
/// </summary>
public partial class ProjectMappings
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    private const string FirstViewKey = "project-mappings";

    private readonly HashSet<Guid> selected = [];
    private readonly HashSet<JobKind> kinds = [];
    private readonly CancellationTokenSource closing = new();
    private ProjectView? project;
    private bool missing;
    private Virtualize<MappingRow>? grid;
    private IReadOnlyList<MappingRow> visible = [];
    private int total;

    /// <summary>The total is a count up to 15 s old (past 10,000 mappings): the page says "about N".</summary>
    private bool totalIsEstimate;

    /// <summary>The prerender's first rows, served once to the grid's first request of the interactive render.</summary>
    private MappingWindow? firstWindow;
    private PersistingComponentStateSubscription persisting;
    private bool allMatching;
    private bool menuOpen;

    /// <summary>The stop of the selection waits for its confirmation.</summary>
    private bool confirmStop;
    private DateTime? startAt;

    /// <summary>The Migration menu's dry run: a preview of permissions and profile (the run rules refuse other jobs with it).</summary>
    private bool dryRun;
    private string? menuError;
    private RunStartOutcome? preview;
    private string? actionMessage;
    private string? importMessage;
    private IReadOnlyList<ImportError> importErrors = [];
    private string? search;
    private string? status;
    private string? stage;
    private string? readinessFilter;
    private string sort = "sourceDevice";
    private int ticks;
    private bool countsStale;
    private bool discoverOpen;
    private readonly DiscoveryForm discover = new();
    private Failure? discoverFailure;
    private IReadOnlyList<ImportError> discoverErrors = [];
    private ReadinessReport? readiness;
    private ElementReference cancelButton;
    private bool focusDialog;

    /// <summary>Since the confirmation was asked for: its answer and its render are logged, to tell where the time goes.</summary>
    private System.Diagnostics.Stopwatch? previewClock;

    private sealed class DiscoveryForm
    {
        public string? OrganizationalUnit { get; set; }

        public bool IncludeChildOus { get; set; } = true;

        public bool IncludeDisabled { get; set; }

        public string? DestinationNameFormat { get; set; }

        public string? DestinationOu { get; set; }
    }

    [Parameter]
    public Guid ProjectId { get; set; }

    /// <summary>A status to filter on, as the projects page's counts link with.</summary>
    [SupplyParameterFromQuery(Name = "status")]
    public string? StatusQuery { get; set; }

    private int SelectedCount => allMatching ? total : selected.Count;

    private MappingFilter Filter => new() { Status = status, Stage = stage, Search = search, Readiness = readinessFilter };

    private string ExportUrl =>
        $"/console/projects/{ProjectId}/mappings.csv?status={Uri.EscapeDataString(status ?? "")}&stage={Uri.EscapeDataString(stage ?? "")}&search={Uri.EscapeDataString(search ?? "")}";

    /// <summary>Whether the role may change the project (an operator's): a viewer sees the grid and its reports only.</summary>
    private bool mayChange;

    /// <summary>Whether the page offers changes: to an operator, and never on an archived project (the server refuses them).</summary>
    private bool Editable => mayChange && project?.ArchivedAt is null;

    /// <summary>What the prerender read, for the interactive render.</summary>
    private sealed record FirstView(ProjectView? Project, MappingWindow Window);

    protected override async Task OnInitializedAsync()
    {
        mayChange = await Session.MayAsync(Role.Operator);
        status = string.IsNullOrEmpty(StatusQuery) ? null : StatusQuery;
        if (ApplicationState.TryTakeFromJson<FirstView>(FirstViewKey, out var handed) && handed is not null)
        {
            project = handed.Project;
            missing = project is null;
            firstWindow = handed.Window;
        }
        else
        {
            await LoadProjectAsync();
            if (project is not null)
            {
                var filter = Filter;
                firstWindow = await Session.RunAsync<MappingGrid, MappingWindow>(Role.Viewer, grid =>
                    grid.WindowAsync(ProjectId, filter, sort, 0, MappingGrid.FirstWindow, CancellationToken.None));
            }
        }
        if (firstWindow is not null)
        {
            (total, totalIsEstimate) = (firstWindow.Total.Count, firstWindow.Total.IsEstimate);
        }
        if (!RendererInfo.IsInteractive)
        {
            persisting = ApplicationState.RegisterOnPersisting(() =>
            {
                ApplicationState.PersistAsJson(FirstViewKey, new FirstView(project, firstWindow ?? new MappingWindow([], default)));
                return Task.CompletedTask;
            });
        }
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender)
        {
            _ = RefreshLoopAsync(closing.Token);
        }
        if (previewClock is { } clock && preview is not null)
        {
            previewClock = null;
            Logger.LogInformation("Confirmation of {MappingCount} mapping(s) on project {ProjectId} rendered {RenderedMs:F0} ms after Start…",
                preview.MappingCount, ProjectId, clock.Elapsed.TotalMilliseconds);
        }
        if (focusDialog && preview is not null)
        {
            // The confirmation takes the keyboard focus (on Cancel, the safe choice); Escape closes it.
            focusDialog = false;
            await cancelButton.FocusAsync();
        }
    }

    private void DialogKey(KeyboardEventArgs e)
    {
        if (e.Key == "Escape")
        {
            preview = null;
        }
    }

    private async Task LoadProjectAsync()
    {
        project = await Session.RunAsync<ProjectCommands, ProjectView?>(Role.Viewer, p => p.GetAsync(ProjectId, CancellationToken.None));
        missing = project is null;
    }

    private async ValueTask<ItemsProviderResult<MappingRow>> LoadRowsAsync(ItemsProviderRequest request)
    {
        var filter = Filter;
        MappingWindow window;
        if (firstWindow is { } first && request.StartIndex == 0)
        {
            // The first request after the prerender: its first rows were read a moment ago, and only those past them are
            // read now (none when the prerender read them all). The prerender hands over no more rows than that: what
            // it hands over comes back from the browser in one message, which the circuit caps at 32 KB.
            var rest = first.Rows.Count < MappingGrid.FirstWindow || request.Count <= first.Rows.Count
                ? null
                : await Session.RunAsync<MappingGrid, MappingWindow>(Role.Viewer, grid =>
                    grid.WindowAsync(ProjectId, filter, sort, first.Rows.Count, request.Count - first.Rows.Count, request.CancellationToken));
            window = new MappingWindow([.. first.Rows.Take(request.Count), .. rest?.Rows ?? []], rest?.Total ?? first.Total);
        }
        else
        {
            window = await Session.RunAsync<MappingGrid, MappingWindow>(Role.Viewer, grid =>
                grid.WindowAsync(ProjectId, filter, sort, request.StartIndex, request.Count, request.CancellationToken));
        }
        firstWindow = null;
        var (rows, count) = (window.Rows, window.Total.Count);
        // A status that moved on screen moves the project's counts too: they are read again on the next tick.
        var before = visible.ToDictionary(r => r.Id, r => r.Status);
        countsStale |= rows.Any(r => before.TryGetValue(r.Id, out var was) && was != r.Status);
        visible = rows;
        if (count != total || window.Total.IsEstimate != totalIsEstimate)
        {
            total = count;
            totalIsEstimate = window.Total.IsEstimate;
            _ = InvokeAsync(StateHasChanged);
        }
        return new ItemsProviderResult<MappingRow>(rows, count);
    }

    /// <summary>Refreshes the rows on screen (and, less often, the project's counts) until the page closes.</summary>
    private async Task RefreshLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(RefreshInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                await InvokeAsync(async () =>
                {
                    if (grid is not null)
                    {
                        await grid.RefreshDataAsync();
                    }
                    if (countsStale || ++ticks % 10 == 0)
                    {
                        countsStale = false;
                        await LoadProjectAsync();
                    }
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException)
        {
            // The page closed.
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away.
        }
    }

    /// <summary>The total as the page shows it: "about N" when it is a recent count rather than one made now.</summary>
    private string TotalText => (totalIsEstimate ? "about " : "") + Labels.Count(total);

    /// <summary>The selection's size as the page shows it (an estimate when it is "all matching" an estimated total).</summary>
    private string SelectedText => (allMatching && totalIsEstimate ? "about " : "") + Labels.Count(SelectedCount);

    private Task SetSearchAsync(string? value) => ChangeFilterAsync(() => search = string.IsNullOrWhiteSpace(value) ? null : value.Trim());

    private Task SetStatusAsync(string? value) => ChangeFilterAsync(() => status = string.IsNullOrEmpty(value) ? null : value);

    private Task SetStageAsync(string? value) => ChangeFilterAsync(() => stage = string.IsNullOrEmpty(value) ? null : value);

    private Task SetReadinessAsync(string? value) => ChangeFilterAsync(() => readinessFilter = string.IsNullOrEmpty(value) ? null : value);

    private Task SetSortAsync(string? value) => ChangeFilterAsync(() => sort = string.IsNullOrEmpty(value) ? "sourceDevice" : value);

    /// <summary>A new filter selects anew: a selection made under another filter would run what is not on screen.</summary>
    private async Task ChangeFilterAsync(Action change)
    {
        change();
        firstWindow = null;
        ClearSelection();
        if (grid is not null)
        {
            await grid.RefreshDataAsync();
        }
    }

    private bool IsSelected(Guid id) => allMatching || selected.Contains(id);

    private void Select(Guid id, bool on)
    {
        if (allMatching)
        {
            // Unticking one row of "all matching" turns the selection into the visible rows less that one.
            allMatching = false;
            selected.UnionWith(visible.Select(r => r.Id));
        }
        if (on)
        {
            selected.Add(id);
        }
        else
        {
            selected.Remove(id);
        }
    }

    private void SelectVisible()
    {
        allMatching = false;
        selected.UnionWith(visible.Select(r => r.Id));
    }

    private void SelectAllMatching()
    {
        selected.Clear();
        allMatching = true;
    }

    private void ClearSelection()
    {
        selected.Clear();
        allMatching = false;
        menuOpen = false;
        confirmStop = false;
    }

    private void Toggle(JobKind kind, bool on)
    {
        if (on)
        {
            kinds.Add(kind);
        }
        else
        {
            kinds.Remove(kind);
        }
    }

    private StartRunInput Request() => new(
        kinds.Order().ToList(),
        allMatching ? null : selected.ToList(),
        allMatching ? Filter : null,
        startAt is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null,
        dryRun);

    /// <summary>Asks the run rules what would start and what would be refused, starting nothing.</summary>
    private async Task PreviewAsync()
    {
        menuError = null;
        if (kinds.Count == 0)
        {
            menuError = "Choose at least one job.";
            return;
        }
        var request = Request();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var outcome = await Session.RunAsync<RunCommands, Outcome<RunStartOutcome>>(Role.Operator, r => r.StartAsync(ProjectId, request, true, CancellationToken.None));
        if (outcome.Failure is { } failure)
        {
            menuError = failure.Message;
            return;
        }
        Logger.LogInformation("Preview of the run on project {ProjectId} answered in {AnswerMs:F0} ms", ProjectId, clock.Elapsed.TotalMilliseconds);
        previewClock = clock;
        preview = outcome.Value;
        menuOpen = false;
        focusDialog = true;
    }

    private async Task StartAsync()
    {
        var request = Request();
        preview = null;
        var outcome = await Session.RunAsync<RunCommands, Outcome<RunStartOutcome>>(Role.Operator, r => r.StartAsync(ProjectId, request, false, CancellationToken.None));
        if (outcome.Failure is { } failure)
        {
            actionMessage = failure.Message;
            return;
        }
        var run = outcome.Value!;
        actionMessage = run.RunRefused is { } refused
            ? $"Nothing started: {refused.Message}"
            : run.Run is null
                ? $"Nothing started: every job was refused ({run.Refusals.Count})."
                : $"{(run.Scheduled ? "Scheduled" : "Started")} {Labels.Count(run.JobCount)} job(s) on {Labels.Count(run.MappingCount)} mapping(s); {Labels.Count(run.Refusals.Count)} refused.";
        ClearSelection();
        await LoadProjectAsync();
        if (grid is not null)
        {
            await grid.RefreshDataAsync();
        }
    }

    /// <summary>Stops the jobs of the selection in one request (ids, or the filter for "all matching"): one statement a few hundred mappings.</summary>
    private async Task StopSelectedAsync()
    {
        confirmStop = false;
        var input = new StopSelectionInput(allMatching ? null : selected.ToList(), allMatching ? Filter : null);
        var outcome = await Session.RunAsync<RunCommands, Outcome<StopResult>>(Role.Operator, r => r.StopSelectionAsync(ProjectId, input, CancellationToken.None));
        actionMessage = outcome.Value is { } stopped
            ? $"{Labels.Count(stopped.StoppedNow)} job(s) stopped, {Labels.Count(stopped.StopRequested)} asked to stop at their next step."
            : outcome.Failure?.Message;
        await LoadProjectAsync();
        if (grid is not null)
        {
            await grid.RefreshDataAsync();
        }
    }

    private async Task ImportAsync(InputFileChangeEventArgs e)
    {
        importMessage = null;
        importErrors = [];
        var outcome = await Session.RunAsync<MappingTransfer, Outcome<ImportResult>>(Role.Operator, async transfer =>
        {
            await using var file = e.File.OpenReadStream(transfer.MaxBytes);
            return await transfer.ImportAsync(ProjectId, file, CancellationToken.None);
        });
        if (outcome.Failure is { } failure)
        {
            importErrors = failure.Extensions?.GetValueOrDefault("errors") as IReadOnlyList<ImportError> ?? [new ImportError(0, null, failure.Message)];
            return;
        }
        importMessage = $"Imported {e.File.Name}: {Labels.Count(outcome.Value!.Created)} created, {Labels.Count(outcome.Value.Updated)} updated.{(outcome.Value.Note is { } note ? " " + note : "")}";
        await LoadProjectAsync();
        if (grid is not null)
        {
            await grid.RefreshDataAsync();
        }
    }

    /// <summary>Adds the computers of an OU of the project's source domain as mappings (all or nothing).</summary>
    private async Task DiscoverAsync()
    {
        var input = new DiscoveryInput(discover.OrganizationalUnit, discover.IncludeChildOus,
            string.IsNullOrWhiteSpace(discover.DestinationNameFormat) ? null : discover.DestinationNameFormat,
            string.IsNullOrWhiteSpace(discover.DestinationOu) ? null : discover.DestinationOu, discover.IncludeDisabled);
        var outcome = await Session.RunAsync<DirectoryCommands, Outcome<DiscoveryOutcome>>(Role.Operator, d => d.DiscoverAsync(ProjectId, input, CancellationToken.None));
        discoverFailure = outcome.Failure;
        discoverErrors = outcome.Failure?.Extensions?.GetValueOrDefault("errors") as IReadOnlyList<ImportError> ?? [];
        if (outcome.Value is { } added)
        {
            actionMessage = $"Found {Labels.Count(added.Found)} computer(s): {Labels.Count(added.Created)} added, {Labels.Count(added.AlreadyInProject)} already in the project, " +
                $"{Labels.Count(added.Disabled)} disabled left out{(added.InOtherProjects.Count > 0 ? $", {added.InOtherProjects.Count} in other projects ({string.Join(", ", added.InOtherProjects.Take(10))})" : "")}.";
            discoverOpen = false;
            await LoadProjectAsync();
            if (grid is not null)
            {
                await grid.RefreshDataAsync();
            }
        }
    }

    /// <summary>The readiness check of the selection for the jobs ticked in the Migration menu (all five when none is).</summary>
    private async Task ReadinessAsync()
    {
        var input = new ReadinessInput(kinds.Count == 0 ? null : kinds.Order().ToList(), allMatching ? null : selected.ToList(), allMatching ? Filter : null);
        var outcome = await Session.RunAsync<DirectoryCommands, Outcome<ReadinessReport>>(Role.Operator, d => d.ReadinessAsync(ProjectId, input, CancellationToken.None));
        readiness = outcome.Value;
        actionMessage = outcome.Failure?.Message;
        if (grid is not null)
        {
            await grid.RefreshDataAsync();
        }
    }

    /// <summary>Reads the project's users and groups again now and says what was read, or why it could not be.</summary>
    private async Task RefreshIdentitiesAsync()
    {
        var outcome = await Session.RunAsync<DirectoryCommands, Outcome<ProjectIdentitiesView>>(Role.Operator, d => d.IdentitiesAsync(ProjectId, refresh: true, CancellationToken.None));
        actionMessage = outcome.Value is { } view
            ? $"Identities read: source {view.SourceUsers} users and {view.SourceGroups} groups, destination {view.DestinationUsers} users and "
                + $"{view.DestinationGroups} groups; {view.Mapped} map with the policy, {view.Unmapped} do not."
            : $"The identities could not be read: {outcome.Failure?.Message}";
    }


    public async ValueTask DisposeAsync()
    {
        persisting.Dispose();
        await closing.CancelAsync();
        closing.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>After "remove completed": the page says what was removed and kept, and the grid reloads.</summary>
    private async Task CompletedRemovedAsync(string what)
    {
        actionMessage = what;
        ClearSelection();
        await LoadProjectAsync();
        if (grid is not null)
        {
            await grid.RefreshDataAsync();
        }
    }
}
