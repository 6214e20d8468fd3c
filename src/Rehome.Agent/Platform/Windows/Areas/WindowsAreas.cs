using System.Runtime.Versioning;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>
/// The openers of the Windows device areas beyond files and registry, each over its real native calls.
/// </summary>
[SupportedOSPlatform("windows")]
internal static class WindowsAreas
{
    public static OpenedArea Shares(JobPolicy policy) => ShareSecurityStore.Open(new NativeShareCalls(), NativeWin32Errors.Instance);

    /// <param name="privileged">
    /// The path security store, created: it enables SeSecurityPrivilege, which reading and writing service SACLs needs.
    /// </param>
    /// <param name="policy">The job's policy (the area has nothing in it to ignore).</param>
    public static OpenedArea Services(Rehome.Security.Stores.ISecurityStore privileged, JobPolicy policy) =>
        ServiceAccountStore.Open(new NativeServiceCalls(), new NativeAccountNames(), NativeWin32Errors.Instance, Environment.MachineName, includeSacl: true);

    public static OpenedArea Printers(JobPolicy policy) => PrinterSecurityStore.Open(new NativePrinterCalls(), NativeWin32Errors.Instance);

    /// <param name="stateFolder">The agent's protected folder, where the principals tasks had before a move are kept.</param>
    /// <param name="policy">The job's policy (the area has nothing in it to ignore).</param>
    public static OpenedArea ScheduledTasks(string stateFolder, JobPolicy policy) =>
        TaskAccountStore.Open(new NativeTaskCalls(), new NativeAccountNames(), NativeWin32Errors.Instance, Path.Combine(stateFolder, TaskPrincipalsFile));

    public const string TaskPrincipalsFile = "task-principals.json";
}
