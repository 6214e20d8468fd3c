namespace Rehome.Directory;

/// <summary>One check of a connection test, in the order it ran, with what it found or why it failed.</summary>
/// <param name="Name">What was checked, in words ("Bind", "Domain SID").</param>
/// <param name="Passed">Whether the check passed.</param>
/// <param name="Detail">What was found, or why the check failed.</param>
public sealed record ConnectionCheck(string Name, bool Passed, string Detail);

/// <summary>The result of testing a directory connection: every check that ran and its outcome.</summary>
public sealed record ConnectionTestResult(IReadOnlyList<ConnectionCheck> Checks)
{
    /// <summary>True when every check passed.</summary>
    public bool Succeeded => Checks.Count > 0 && Checks.All(check => check.Passed);
}
