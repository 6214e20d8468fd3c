namespace Rehome.Security.Reacl;

/// <summary>What the Re-ACL translation does with an ACE that names a mapped source SID.</summary>
public enum TranslationMode
{
    /// <summary>The ACE now names the destination SID; owner and group are replaced.</summary>
    Replace,

    /// <summary>
    /// The source ACE stays and a copy naming the destination SID follows it (coexistence); owner and group stay, as
    /// the source account still exists.
    /// </summary>
    Add,

    /// <summary>The source ACE is removed; owner and group are replaced, since they cannot be removed.</summary>
    Remove,
}

/// <summary>How to translate a security descriptor.</summary>
public sealed record TranslationOptions
{
    public TranslationMode Mode { get; init; } = TranslationMode.Replace;

    /// <summary>Also translate the SACL (audit and label ACEs); reading it needs SeSecurityPrivilege on Windows.</summary>
    public bool IncludeSacl { get; init; }

    /// <summary>
    /// Also translate inherited ACEs. Needed where the store does not propagate inheritance itself (registry, offline
    /// NTFS through ntfs-3g); otherwise inherited ACEs follow their translated parents.
    /// </summary>
    public bool TranslateInheritedAces { get; init; }
}
