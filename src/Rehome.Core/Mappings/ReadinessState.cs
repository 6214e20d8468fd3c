namespace Rehome.Core.Mappings;

/// <summary>The outcome of a mapping's last readiness check, as its list shows it.</summary>
public enum ReadinessState
{
    /// <summary>Every check passed.</summary>
    Ready,

    /// <summary>The jobs can start, but a check deserves a look (agent offline, disk space unknown).</summary>
    Warnings,

    /// <summary>A check failed: the job would fail or wait; fix it first.</summary>
    NotReady,
}
