namespace Rehome.Core.Connections;

/// <summary>Whether a connection is where devices come from or where they go.</summary>
public enum ConnectionRole
{
    Source,
    Destination,
}

/// <summary>The kind of directory a connection talks to.</summary>
public enum ConnectionKind
{
    /// <summary>On-premises Active Directory only.</summary>
    ActiveDirectory,

    /// <summary>Active Directory synchronised with Microsoft Entra ID (hybrid joined devices).</summary>
    HybridIdentity,

    /// <summary>Microsoft Entra ID only (cloud joined devices).</summary>
    EntraId,
}

/// <summary>How a device joins the destination.</summary>
public enum RejoinMethod
{
    /// <summary>The device reaches the destination directly (a domain controller, or Entra ID) while it joins.</summary>
    Online,

    /// <summary>
    /// The device joins without reaching the destination: an offline domain join blob (Active Directory,
    /// Hybrid Identity) or a bulk enrollment provisioning package (Entra ID).
    /// </summary>
    Offline,
}
