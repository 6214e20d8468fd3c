namespace Rehome.Directory.ActiveDirectory;

/// <summary>What a domain controller says about its domain.</summary>
/// <param name="DnsName">The DNS name ("dst.test").</param>
/// <param name="NetBiosName">The NetBIOS name ("DST").</param>
/// <param name="DistinguishedName">The domain partition ("DC=dst,DC=test").</param>
/// <param name="Sid">The domain SID.</param>
/// <param name="DomainControllers">DNS names of the domain's DCs.</param>
/// <param name="DomainFunctionalLevel">The domain functional level in words ("Windows Server 2008 R2").</param>
/// <param name="ConnectedDomainController">The DNS name of the DC that answered.</param>
public sealed record ActiveDirectoryDomain(
    string DnsName,
    string NetBiosName,
    string DistinguishedName,
    string Sid,
    IReadOnlyList<string> DomainControllers,
    string DomainFunctionalLevel,
    string ConnectedDomainController);

/// <summary>The kinds of account Rehome looks up.</summary>
public enum ActiveDirectoryAccountKind
{
    User,
    Group,
    Computer,
}

/// <summary>A user, group or computer account.</summary>
/// <param name="Kind">User, group or computer.</param>
/// <param name="DistinguishedName">Where it lives.</param>
/// <param name="Sid">Its SID ("S-1-5-21-…").</param>
/// <param name="SamAccountName">The pre-Windows 2000 name (computers end in '$').</param>
/// <param name="UserPrincipalName">The UPN, when set.</param>
/// <param name="DisplayName">The display name, or the common name when there is none.</param>
/// <param name="ObjectGuid">The object's GUID, which survives renames and moves.</param>
public sealed record ActiveDirectoryAccount(
    ActiveDirectoryAccountKind Kind,
    string DistinguishedName,
    string Sid,
    string SamAccountName,
    string? UserPrincipalName,
    string DisplayName,
    Guid ObjectGuid);

/// <summary>A computer account, as discovery lists it for new mappings.</summary>
/// <param name="Name">The computer name (the sAMAccountName without '$').</param>
/// <param name="DistinguishedName">Where it lives.</param>
/// <param name="Sid">Its SID.</param>
/// <param name="DnsHostName">The DNS host name, when registered.</param>
/// <param name="OperatingSystem">The operating system the computer reported, when any.</param>
/// <param name="Enabled">False when the account is disabled.</param>
/// <param name="ObjectGuid">The object's GUID.</param>
public sealed record ActiveDirectoryComputer(
    string Name,
    string DistinguishedName,
    string Sid,
    string? DnsHostName,
    string? OperatingSystem,
    bool Enabled,
    Guid ObjectGuid);

/// <summary>A computer account to create in, or reuse from, the destination domain.</summary>
/// <param name="Name">The computer name (at most 15 characters).</param>
/// <param name="OrganizationalUnit">The distinguished name of the OU for a new account.</param>
/// <param name="ReuseExisting">The policy's "reuse computer object": an existing computer account of
/// this name is taken over instead of being a conflict.</param>
public sealed record ComputerAccountRequest(string Name, string OrganizationalUnit, bool ReuseExisting);

/// <summary>What happened to a computer account request.</summary>
public enum ComputerAccountOutcome
{
    Created,
    Reused,
    Refused,
}

/// <summary>Why a computer account request was refused.</summary>
public enum ComputerAccountRefusal
{
    None,

    /// <summary>The name is not a valid computer name.</summary>
    InvalidName,

    /// <summary>The OU does not exist.</summary>
    OrganizationalUnitMissing,

    /// <summary>Another machine's account has the name and the policy does not allow reuse.</summary>
    NameTakenByComputer,

    /// <summary>A user, group or other object already has the name.</summary>
    NameTakenByOtherObject,

    /// <summary>The connection's account may not create computers in the OU.</summary>
    AccessDenied,
}

/// <summary>The answer to a <see cref="ComputerAccountRequest"/>.</summary>
/// <param name="Outcome">Created, reused or refused.</param>
/// <param name="Computer">The account created or reused; null when refused.</param>
/// <param name="Refusal">Why it was refused; None otherwise.</param>
/// <param name="Message">What happened, in words, for the mapping's report.</param>
public sealed record ComputerAccountResult(
    ComputerAccountOutcome Outcome,
    ActiveDirectoryComputer? Computer,
    ComputerAccountRefusal Refusal,
    string Message);
