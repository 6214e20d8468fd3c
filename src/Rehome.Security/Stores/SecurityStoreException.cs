namespace Rehome.Security.Stores;

/// <summary>Why a store could not read, write or list an item; the same kinds from every store.</summary>
public enum SecurityStoreErrorKind
{
    /// <summary>The item is not there (it vanished mid-walk, the drive or key does not exist).</summary>
    NotFound,

    /// <summary>The item exists but its security cannot be read or written, even with the store's privileges.</summary>
    AccessDenied,

    /// <summary>Another process holds the item open in a way that forbids this (a sharing violation, a loaded hive).</summary>
    InUse,

    /// <summary>Anything else (an unreadable descriptor, a device error).</summary>
    Other,
}

/// <summary>
/// The one exception every <see cref="ISecurityStore"/> and <see cref="IHolderStore"/> throws for an item it cannot
/// handle: a walk records it against the item and goes on. <see cref="Exception.Message"/> names the item and
/// the cause; <see cref="Exception.InnerException"/> keeps the platform's own error.
/// </summary>
public sealed class SecurityStoreException(SecurityStoreErrorKind kind, string path, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public SecurityStoreErrorKind Kind { get; } = kind;

    public string Path { get; } = path;
}
