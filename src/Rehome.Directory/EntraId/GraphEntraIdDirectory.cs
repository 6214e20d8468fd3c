using System.Globalization;
using System.Runtime.CompilerServices;
using Azure.Core;
using Azure.Identity;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Authentication.Azure;
using Rehome.Directory.Identity;

namespace Rehome.Directory.EntraId;

/// <summary>
/// <see cref="IEntraIdDirectory"/> with the Microsoft Graph SDK, unchanged, aimed at
/// <see cref="EntraIdConnectionOptions.GraphBaseUrl"/>. The SDK's own handlers retry throttled (429) and
/// unavailable (503, 504) requests after Retry-After; this class adds the same for batch items, follows
/// @odata.nextLink, and turns what is left of an outage into <see cref="DirectoryUnavailableException"/>.
/// </summary>
public sealed class GraphEntraIdDirectory : IEntraIdDirectory, IDisposable
{
    private const int PageSize = 999;
    private const int BatchSize = 20;

    private static readonly string[] DeviceFields = ["id", "deviceId", "displayName", "operatingSystem", "trustType"];
    private static readonly string[] GroupFields = ["id", "displayName", "securityEnabled", "securityIdentifier"];

    private readonly EntraIdConnectionOptions options;
    private readonly HttpClient httpClient;
    private readonly GraphServiceClient client;
    private readonly TimeProvider time;
    private EntraTenant? tenant;

    /// <summary>Connects with the credential the options describe (client secret or certificate).</summary>
    public GraphEntraIdDirectory(EntraIdConnectionOptions options)
        : this(options, (options ?? throw new ArgumentNullException(nameof(options))).CreateCredential())
    {
    }

    /// <summary>Connects with any Azure.Identity credential.</summary>
    /// <param name="options">The tenant and Graph endpoint.</param>
    /// <param name="credential">Where tokens come from.</param>
    /// <param name="finalHandler">The HTTP handler under the SDK's pipeline; the platform's when null.</param>
    /// <param name="time">The clock for polling and back-off; the system's when null.</param>
    public GraphEntraIdDirectory(
        EntraIdConnectionOptions options,
        TokenCredential credential,
        HttpMessageHandler? finalHandler = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        this.options = options;
        this.time = time ?? TimeProvider.System;
        var baseUrl = options.GraphBaseUrl.ToString().TrimEnd('/');
        var scope = $"{options.GraphBaseUrl.Scheme}://{options.GraphBaseUrl.Authority}/.default";
        var authentication = new AzureIdentityAuthenticationProvider(credential, [options.GraphBaseUrl.Host], null, true, scope);
        httpClient = GraphClientFactory.Create(GraphClientFactory.CreateDefaultHandlers(), finalHandler: finalHandler);
        client = new GraphServiceClient(httpClient, authentication, baseUrl);
    }

    public async Task<ConnectionTestResult> TestConnectionAsync(CancellationToken cancellationToken = default)
    {
        var checks = new List<ConnectionCheck>();
        async Task<bool> Check(string name, Func<Task<string>> check)
        {
            try
            {
                checks.Add(new ConnectionCheck(name, true, await check()));
                return true;
            }
            catch (Exception exception) when (exception is EntraIdException or DirectoryUnavailableException)
            {
                checks.Add(new ConnectionCheck(name, false, exception.Message));
                return false;
            }
        }

        if (!await Check("Tenant", async () =>
        {
            var found = await ReadTenantAsync(cancellationToken);
            return $"{found.DisplayName} ({found.TenantId}), default domain {found.DefaultDomain ?? "none"}.";
        }))
        {
            return new ConnectionTestResult(checks);
        }

        await Check("Read devices", async () =>
        {
            await CallAsync("reading devices", token => client.Devices.GetAsync(request => request.QueryParameters.Top = 1, token), cancellationToken);
            return "Devices can be read.";
        });
        await Check("Read groups", async () =>
        {
            await CallAsync("reading groups", token => client.Groups.GetAsync(request => request.QueryParameters.Top = 1, token), cancellationToken);
            return "Groups can be read.";
        });
        await Check("Read users", async () =>
        {
            await CallAsync("reading users", token => client.Users.GetAsync(request => request.QueryParameters.Top = 1, token), cancellationToken);
            return "Users can be read.";
        });
        await Check("Windows Autopilot", async () =>
        {
            await CallAsync("reading Autopilot devices",
                token => client.DeviceManagement.WindowsAutopilotDeviceIdentities.GetAsync(request => request.QueryParameters.Top = 1, token),
                cancellationToken);
            return "Autopilot devices can be read.";
        });
        return new ConnectionTestResult(checks);
    }

    public async Task<EntraTenant> ReadTenantAsync(CancellationToken cancellationToken = default)
    {
        if (tenant is not null)
        {
            return tenant;
        }

        var response = await CallAsync("reading the organization", token => client.Organization.GetAsync(cancellationToken: token), cancellationToken);
        var organization = response?.Value?.FirstOrDefault()
            ?? throw new EntraIdException("Graph returned no organization for this tenant.");
        tenant = new EntraTenant(
            organization.Id ?? string.Empty,
            organization.DisplayName ?? string.Empty,
            organization.VerifiedDomains?.FirstOrDefault(domain => domain.IsDefault == true)?.Name);
        return tenant;
    }

    public async Task<IReadOnlyList<EntraDevice>> FindDevicesByNameAsync(string displayName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(displayName);
        return await ListDevicesAsync($"displayName eq {Quote(displayName)}", cancellationToken).ToListAsync(cancellationToken);
    }

    public async Task<EntraDevice?> FindDeviceByDeviceIdAsync(Guid deviceId, CancellationToken cancellationToken = default)
    {
        var filter = $"deviceId eq '{deviceId.ToString("D", CultureInfo.InvariantCulture)}'";
        await foreach (var device in ListDevicesAsync(filter, cancellationToken))
        {
            return device;
        }

        return null;
    }

    public async Task<IReadOnlyList<EntraGroup>> GetDeviceGroupsAsync(string deviceObjectId, bool transitive, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deviceObjectId);
        var device = client.Devices[deviceObjectId];
        var what = transitive ? "reading the device's transitive group memberships" : "reading the device's group memberships";
        var pages = PagesAsync(
            what,
            token => transitive
                ? device.TransitiveMemberOf.GetAsync(request => request.QueryParameters.Top = PageSize, token)
                : device.MemberOf.GetAsync(request => request.QueryParameters.Top = PageSize, token),
            (link, token) => device.MemberOf.WithUrl(link).GetAsync(cancellationToken: token),
            page => (page.Value, page.OdataNextLink),
            cancellationToken);
        var groups = new List<EntraGroup>();
        await foreach (var member in pages)
        {
            // Memberships also include directory roles and administrative units; only groups move.
            if (member is Group group)
            {
                groups.Add(ToGroup(group));
            }
        }

        return groups;
    }

    public IAsyncEnumerable<EntraUser> ListUsersAsync(CancellationToken cancellationToken = default) =>
        PagesAsync(
            "listing users",
            token => client.Users.GetAsync(request =>
            {
                request.QueryParameters.Top = PageSize;
                request.QueryParameters.Select = ["id", "userPrincipalName", "displayName", "onPremisesSecurityIdentifier", "onPremisesSamAccountName"];
            }, token),
            (link, token) => client.Users.WithUrl(link).GetAsync(cancellationToken: token),
            page => (page.Value, page.OdataNextLink),
            cancellationToken).Select(user => new EntraUser(
                user.Id ?? string.Empty,
                user.UserPrincipalName ?? string.Empty,
                user.DisplayName,
                user.OnPremisesSecurityIdentifier,
                user.OnPremisesSamAccountName));

    public async Task<IReadOnlyList<EntraGroup>> FindGroupsByNameAsync(string displayName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(displayName);
        return await ListGroupsAsync($"displayName eq {Quote(displayName)}", cancellationToken).ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<GroupResolution>> ResolveGroupsAsync(
        IEnumerable<EntraGroup> sourceGroups,
        IReadOnlyDictionary<string, string>? explicitMapping,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sourceGroups);
        var mapping = explicitMapping is null
            ? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            : new Dictionary<string, string>(explicitMapping, StringComparer.OrdinalIgnoreCase);
        var resolutions = new List<GroupResolution>();
        foreach (var source in sourceGroups)
        {
            if (mapping.TryGetValue(source.Id, out var target) || mapping.TryGetValue(source.DisplayName, out target))
            {
                resolutions.Add(await ResolveExplicitAsync(source, target, cancellationToken));
                continue;
            }

            var candidates = await FindGroupsByNameAsync(source.DisplayName, cancellationToken);
            resolutions.Add(candidates.Count switch
            {
                1 => new GroupResolution(source, candidates[0], $"Same display name '{source.DisplayName}'."),
                0 => new GroupResolution(source, null, $"No destination group is named '{source.DisplayName}' and no group mapping names it."),
                _ => new GroupResolution(source, null,
                    $"{candidates.Count} destination groups are named '{source.DisplayName}'; map this group explicitly."),
            });
        }

        return resolutions;
    }

    public async Task<IReadOnlyList<GroupMembershipResult>> AddDeviceToGroupsAsync(
        string deviceObjectId,
        IEnumerable<string> groupIds,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deviceObjectId);
        ArgumentNullException.ThrowIfNull(groupIds);
        var reference = $"{client.RequestAdapter.BaseUrl}/directoryObjects/{deviceObjectId}";
        var results = new Dictionary<string, GroupMembershipResult>(StringComparer.OrdinalIgnoreCase);
        var pending = groupIds.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        for (var round = 0; pending.Count > 0; round++)
        {
            var retryAfter = await SendMembershipBatchesAsync(pending, reference, results, cancellationToken);
            pending = [.. results.Values.Where(result => result.Retryable).Select(result => result.GroupId)];
            if (pending.Count == 0 || round >= options.BatchItemRetries)
            {
                break;
            }

            await Task.Delay(retryAfter, time, cancellationToken);
        }

        var ordered = groupIds.Distinct(StringComparer.OrdinalIgnoreCase).Select(id => results[id]).ToList();
        if (ordered.Count > 0 && ordered.All(result => result.Retryable))
        {
            throw new DirectoryUnavailableException(
                $"Microsoft Graph kept refusing group memberships ({ordered[0].StatusCode.ToString(CultureInfo.InvariantCulture)}: {ordered[0].Message}).");
        }

        return ordered;
    }

    public async Task<AutopilotImportResult> ImportAutopilotDeviceAsync(AutopilotImportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        byte[] hardwareHash;
        try
        {
            hardwareHash = Convert.FromBase64String(request.HardwareHash);
        }
        catch (FormatException)
        {
            return new AutopilotImportResult(null, request.SerialNumber, AutopilotImportOutcome.Failed, null, null,
                "The hardware hash is not valid base64; collect it again on the device.");
        }

        var identity = new ImportedWindowsAutopilotDeviceIdentity
        {
            SerialNumber = request.SerialNumber,
            HardwareIdentifier = hardwareHash,
            GroupTag = request.GroupTag,
            ProductKey = request.ProductKey,
            AssignedUserPrincipalName = request.AssignedUserPrincipalName,
            State = new ImportedWindowsAutopilotDeviceIdentityState { DeviceImportStatus = ImportedWindowsAutopilotDeviceIdentityImportStatus.Unknown },
        };
        var created = await CallAsync("importing the device into Windows Autopilot",
            token => client.DeviceManagement.ImportedWindowsAutopilotDeviceIdentities.PostAsync(identity, cancellationToken: token), cancellationToken);
        var importId = created?.Id ?? throw new EntraIdException("Graph accepted the Autopilot import but returned no id.");
        return await WaitForAutopilotImportAsync(importId, cancellationToken);
    }

    public async Task<AutopilotImportResult> WaitForAutopilotImportAsync(string importId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(importId);
        var deadline = time.GetUtcNow() + options.AutopilotImportWait;
        while (true)
        {
            var imported = await CallAsync("reading the Autopilot import status",
                token => client.DeviceManagement.ImportedWindowsAutopilotDeviceIdentities[importId].GetAsync(cancellationToken: token),
                cancellationToken) ?? throw new EntraIdException($"The Autopilot import {importId} no longer exists.");
            var state = imported.State;
            var serialNumber = imported.SerialNumber ?? string.Empty;
            switch (state?.DeviceImportStatus)
            {
                case ImportedWindowsAutopilotDeviceIdentityImportStatus.Complete:
                    return new AutopilotImportResult(importId, serialNumber, AutopilotImportOutcome.Complete, null, null,
                        $"Registered in Windows Autopilot (registration {state.DeviceRegistrationId}).");
                case ImportedWindowsAutopilotDeviceIdentityImportStatus.Error:
                    return ImportError(importId, serialNumber, state.DeviceErrorCode, state.DeviceErrorName);
            }

            if (time.GetUtcNow() >= deadline)
            {
                return new AutopilotImportResult(importId, serialNumber, AutopilotImportOutcome.Processing, null, null,
                    "Windows Autopilot is still processing the import; its status is read again later.");
            }

            await Task.Delay(options.AutopilotPollInterval, time, cancellationToken);
        }
    }

    public async Task<IReadOnlyList<AutopilotDevice>> FindAutopilotDevicesAsync(string serialNumber, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serialNumber);
        var registrations = client.DeviceManagement.WindowsAutopilotDeviceIdentities;
        var devices = PagesAsync(
            "finding Autopilot devices",
            token => registrations.GetAsync(request => request.QueryParameters.Filter = $"contains(serialNumber,{Quote(serialNumber)})", token),
            (link, token) => registrations.WithUrl(link).GetAsync(cancellationToken: token),
            page => (page.Value, page.OdataNextLink),
            cancellationToken);
        var found = new List<AutopilotDevice>();
        await foreach (var device in devices)
        {
            // contains() also matches longer serial numbers; keep the exact ones.
            if (string.Equals(device.SerialNumber, serialNumber, StringComparison.OrdinalIgnoreCase))
            {
                found.Add(new AutopilotDevice(device.Id ?? string.Empty, device.SerialNumber ?? string.Empty, device.GroupTag));
            }
        }

        return found;
    }

    public async Task<bool> DeleteAutopilotDeviceAsync(string autopilotDeviceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(autopilotDeviceId);
        try
        {
            await CallAsync("removing the Autopilot registration", async token =>
            {
                await client.DeviceManagement.WindowsAutopilotDeviceIdentities[autopilotDeviceId].DeleteAsync(cancellationToken: token);
                return true;
            }, cancellationToken);
            return true;
        }
        catch (EntraIdException exception) when (exception.InnerException is ApiException { ResponseStatusCode: 404 })
        {
            return false;
        }
    }

    public async IAsyncEnumerable<DirectoryIdentity> ListIdentitiesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var found = await ReadTenantAsync(cancellationToken);
        var domainName = found.DefaultDomain ?? found.DisplayName;
        await foreach (var user in ListUsersAsync(cancellationToken))
        {
            if (System.Guid.TryParse(user.Id, out var objectId))
            {
                yield return new DirectoryIdentity(DirectoryIdentityKind.User, SecurityIdentifierText.FromEntraObjectId(objectId),
                    user.OnPremisesSamAccountName, user.UserPrincipalName, user.DisplayName ?? user.UserPrincipalName, domainName);
            }
        }

        await foreach (var group in ListGroupsAsync(null, cancellationToken))
        {
            // Only security groups can appear in ACLs.
            if (group.SecurityEnabled && System.Guid.TryParse(group.Id, out var objectId))
            {
                yield return new DirectoryIdentity(DirectoryIdentityKind.Group,
                    group.SecurityIdentifier ?? SecurityIdentifierText.FromEntraObjectId(objectId), null, null, group.DisplayName, domainName);
            }
        }
    }

    public void Dispose() => httpClient.Dispose();

    private async Task<GroupResolution> ResolveExplicitAsync(EntraGroup source, string target, CancellationToken cancellationToken)
    {
        if (System.Guid.TryParse(target, out _))
        {
            try
            {
                var group = await CallAsync("reading the mapped group",
                    token => client.Groups[target].GetAsync(request => request.QueryParameters.Select = GroupFields, token), cancellationToken);
                if (group is not null)
                {
                    return new GroupResolution(source, ToGroup(group), $"Group mapping to '{group.DisplayName}'.");
                }
            }
            catch (EntraIdException exception) when (exception.InnerException is ApiException { ResponseStatusCode: 404 })
            {
            }

            return new GroupResolution(source, null, $"The group mapping names group {target}, which does not exist in the destination tenant.");
        }

        var candidates = await FindGroupsByNameAsync(target, cancellationToken);
        return candidates.Count switch
        {
            1 => new GroupResolution(source, candidates[0], $"Group mapping to '{target}'."),
            0 => new GroupResolution(source, null, $"The group mapping names '{target}', which does not exist in the destination tenant."),
            _ => new GroupResolution(source, null, $"The group mapping names '{target}', which {candidates.Count} destination groups are called; map to the group id instead."),
        };
    }

    /// <summary>Sends memberships in batches of 20 and records each item; returns how long throttled items must wait.</summary>
    private async Task<TimeSpan> SendMembershipBatchesAsync(
        List<string> groupIds,
        string reference,
        Dictionary<string, GroupMembershipResult> results,
        CancellationToken cancellationToken)
    {
        var batch = new BatchRequestContentCollection(client, BatchSize);
        var steps = new Dictionary<string, string>();
        foreach (var groupId in groupIds)
        {
            // A fresh body per step: the SDK's backing store serializes a model's values only once.
            var body = new ReferenceCreate { OdataId = reference };
            var step = await batch.AddBatchRequestStepAsync(client.Groups[groupId].Members.Ref.ToPostRequestInformation(body));
            steps[step] = groupId;
        }

        var response = await CallAsync("adding the device to groups (batch)", token => client.Batch.PostAsync(batch, token), cancellationToken);
        var wait = TimeSpan.Zero;
        foreach (var (step, groupId) in steps)
        {
            using var item = await response.GetResponseByIdAsync(step);
            var status = (int)item.StatusCode;
            var body = item.Content is null ? string.Empty : await item.Content.ReadAsStringAsync(cancellationToken);
            var message = GraphErrorMessage(body) ?? item.ReasonPhrase ?? string.Empty;
            if (item.IsSuccessStatusCode)
            {
                results[groupId] = new GroupMembershipResult(groupId, GroupMembershipOutcome.Added, status, "Added.", false);
            }
            else if (status == 400 && message.Contains("already exist", StringComparison.OrdinalIgnoreCase))
            {
                results[groupId] = new GroupMembershipResult(groupId, GroupMembershipOutcome.AlreadyMember, status, "Already a member.", false);
            }
            else
            {
                var transient = IsTransient(status);
                if (transient)
                {
                    var retryAfter = RetryAfter(item.Headers.RetryAfter) ?? options.DefaultRetryAfter;
                    wait = retryAfter > wait ? retryAfter : wait;
                }

                results[groupId] = new GroupMembershipResult(groupId, GroupMembershipOutcome.Failed, status,
                    status == 404 ? $"The group or the device does not exist ({message})." : message, transient);
            }
        }

        return wait;
    }

    private static AutopilotImportResult ImportError(string importId, string serialNumber, int? code, string? name)
    {
        var label = $"{code?.ToString(CultureInfo.InvariantCulture) ?? "no code"} {name}".Trim();
        return code switch
        {
            806 => new AutopilotImportResult(importId, serialNumber, AutopilotImportOutcome.AlreadyRegisteredInThisTenant, code, name,
                $"The device {serialNumber} is already registered in Windows Autopilot in this tenant ({label})."),
            808 => new AutopilotImportResult(importId, serialNumber, AutopilotImportOutcome.RegisteredInAnotherTenant, code, name,
                $"The device {serialNumber} is registered in Windows Autopilot in another tenant ({label}); it must be deregistered there first."),
            _ => new AutopilotImportResult(importId, serialNumber, AutopilotImportOutcome.Failed, code, name,
                $"Windows Autopilot refused the device {serialNumber} ({label})."),
        };
    }

    private IAsyncEnumerable<EntraDevice> ListDevicesAsync(string filter, CancellationToken cancellationToken) =>
        PagesAsync(
            "finding devices",
            token => client.Devices.GetAsync(request =>
            {
                request.QueryParameters.Filter = filter;
                request.QueryParameters.Select = DeviceFields;
                request.QueryParameters.Top = PageSize;
            }, token),
            (link, token) => client.Devices.WithUrl(link).GetAsync(cancellationToken: token),
            page => (page.Value, page.OdataNextLink),
            cancellationToken).Select(device => new EntraDevice(
                device.Id ?? string.Empty,
                device.DeviceId,
                device.DisplayName ?? string.Empty,
                device.OperatingSystem,
                device.TrustType));

    private IAsyncEnumerable<EntraGroup> ListGroupsAsync(string? filter, CancellationToken cancellationToken) =>
        PagesAsync(
            "finding groups",
            token => client.Groups.GetAsync(request =>
            {
                request.QueryParameters.Filter = filter;
                request.QueryParameters.Select = GroupFields;
                request.QueryParameters.Top = PageSize;
            }, token),
            (link, token) => client.Groups.WithUrl(link).GetAsync(cancellationToken: token),
            page => (page.Value, page.OdataNextLink),
            cancellationToken).Select(ToGroup);

    private static EntraGroup ToGroup(Group group) =>
        new(group.Id ?? string.Empty, group.DisplayName ?? string.Empty, group.SecurityEnabled == true, group.SecurityIdentifier);

    /// <summary>Every item of a collection, page after page, following @odata.nextLink.</summary>
    private async IAsyncEnumerable<TItem> PagesAsync<TItem, TPage>(
        string what,
        Func<CancellationToken, Task<TPage?>> first,
        Func<string, CancellationToken, Task<TPage?>> next,
        Func<TPage, (List<TItem>? Items, string? NextLink)> read,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where TPage : class
    {
        var page = await CallAsync(what, first, cancellationToken);
        while (page is not null)
        {
            var (items, nextLink) = read(page);
            foreach (var item in items ?? [])
            {
                yield return item;
            }

            if (string.IsNullOrEmpty(nextLink))
            {
                yield break;
            }

            page = await CallAsync(what, token => next(nextLink, token), cancellationToken);
        }
    }

    /// <summary>One Graph call, its failures turned into Rehome's two kinds: retry later, or a refusal.</summary>
    private static async Task<T> CallAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken);
        }
        catch (AggregateException exception) when (exception.InnerExceptions.LastOrDefault() is ApiException last)
        {
            // The SDK's retry handler gives up with every attempt's failure; the last one speaks for them.
            throw Classify(what, last);
        }
        catch (ApiException exception)
        {
            throw Classify(what, exception);
        }
        catch (AuthenticationFailedException exception)
        {
            throw new EntraIdException($"No token could be obtained for Microsoft Graph while {what}: {exception.Message}", exception);
        }
        catch (HttpRequestException exception)
        {
            throw new DirectoryUnavailableException($"Microsoft Graph cannot be reached while {what}: {exception.Message}", exception);
        }
        catch (TaskCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DirectoryUnavailableException($"Microsoft Graph did not answer in time while {what}.", exception);
        }
    }

    private static Exception Classify(string what, ApiException exception)
    {
        var status = exception.ResponseStatusCode.ToString(CultureInfo.InvariantCulture);
        return IsTransient(exception.ResponseStatusCode)
            ? new DirectoryUnavailableException(
                $"Microsoft Graph is unavailable while {what} (HTTP {status}: {ErrorText(exception)}).", RetryAfter(exception), exception)
            : new EntraIdException($"Microsoft Graph refused {what} (HTTP {status}: {ErrorText(exception)}).", exception);
    }

    private static bool IsTransient(int status) => status is 429 or 500 or 502 or 503 or 504;

    private static string ErrorText(ApiException exception) =>
        exception is ODataError { Error: { } error } ? $"{error.Code}: {error.Message}" : exception.Message;

    private static TimeSpan? RetryAfter(ApiException exception)
    {
        if (exception.ResponseHeaders.TryGetValue("Retry-After", out var values))
        {
            var value = values.FirstOrDefault();
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                return TimeSpan.FromSeconds(seconds);
            }
        }

        return null;
    }

    private static TimeSpan? RetryAfter(System.Net.Http.Headers.RetryConditionHeaderValue? header) =>
        header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    private static string? GraphErrorMessage(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("message", out var message)
                ? message.GetString()
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return body;
        }
    }

    /// <summary>An OData string literal: single quotes doubled.</summary>
    private static string Quote(string value) => $"'{value.Replace("'", "''", StringComparison.Ordinal)}'";
}
