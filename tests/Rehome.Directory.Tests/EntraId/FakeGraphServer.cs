using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rehome.Directory.EntraId;

namespace Rehome.Directory.Tests.EntraId;

/// <summary>
/// A stand-in for Microsoft Graph v1.0 on a loopback port, holding one tenant in memory. It answers like
/// Graph where Rehome depends on it: collections in pages with @odata.nextLink, $filter on the fields Rehome
/// filters by, memberOf/transitiveMemberOf with @odata.type, members/$ref, $batch with per-item statuses,
/// Autopilot imports whose status moves from unknown through pending to its end as it is read, error bodies,
/// and on request throttling (429 + Retry-After, per batch item too) and outages.
/// </summary>
public sealed partial class FakeGraphServer : IAsyncDisposable
{
    public const string Token = "rehome-test-token";

    private readonly WebApplication app;
    private readonly Lock gate = new();
    private readonly List<JsonObject> users = [];
    private readonly List<JsonObject> devices = [];
    private readonly List<JsonObject> groups = [];
    private readonly List<JsonObject> roles = [];
    private readonly Dictionary<string, HashSet<string>> members = [];
    private readonly Dictionary<string, ImportRecord> imports = [];
    private readonly List<JsonObject> autopilotDevices = [];
    private readonly List<Fault> faults = [];
    // One counter for all instances, so requests to two tenants can be put in order.
    private static long sequence;
    private readonly List<(long Sequence, string Request)> requests = [];
    private readonly List<int> batchSizes = [];
    private int throttledBatchItems;
    private int throttledBatchItemsRetryAfter;

    private FakeGraphServer(WebApplication app)
    {
        this.app = app;
    }

    /// <summary>The v1.0 endpoint to point the SDK at.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>How many items a page holds at most, whatever $top asks.</summary>
    public int PageSize { get; set; } = 3;

    /// <summary>How many status reads an import stays unknown/pending before it ends.</summary>
    public int ImportReadsUntilDone { get; set; } = 2;

    /// <summary>Serial numbers this tenant's Autopilot says belong to another tenant (error 808).</summary>
    public HashSet<string> SerialNumbersOfOtherTenants { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string TenantId { get; } = Guid.NewGuid().ToString();

    public static async Task<FakeGraphServer> StartAsync(string tenantName, string defaultDomain)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var server = new FakeGraphServer(builder.Build());
        server.Organization = new JsonObject
        {
            ["id"] = server.TenantId,
            ["displayName"] = tenantName,
            ["verifiedDomains"] = new JsonArray(new JsonObject { ["name"] = defaultDomain, ["isDefault"] = true }),
        };
        server.app.Run(server.ServeOrReportAsync);
        await server.app.StartAsync();
        var address = server.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/v1.0");
        return server;
    }

    public JsonObject Organization { get; private set; } = [];

    /// <summary>Options for a directory aimed at this server, polling fast.</summary>
    public EntraIdConnectionOptions Options() => new()
    {
        TenantId = TenantId,
        ClientId = Guid.NewGuid().ToString(),
        GraphBaseUrl = BaseUrl,
        AutopilotPollInterval = TimeSpan.FromMilliseconds(20),
        AutopilotImportWait = TimeSpan.FromSeconds(30),
        DefaultRetryAfter = TimeSpan.FromMilliseconds(50),
    };

    public GraphEntraIdDirectory Directory(string token = Token) => new(Options(), new TestTokenCredential(token));

    public string AddUser(string userPrincipalName, string displayName) =>
        Add(users, new JsonObject { ["userPrincipalName"] = userPrincipalName, ["displayName"] = displayName });

    public string AddDevice(string displayName, Guid deviceId) =>
        Add(devices, new JsonObject
        {
            ["deviceId"] = deviceId.ToString(),
            ["displayName"] = displayName,
            ["operatingSystem"] = "Windows",
            ["trustType"] = "AzureAd",
        });

    public string AddGroup(string displayName, bool securityEnabled = true, params string[] memberIds)
    {
        var id = Add(groups, new JsonObject { ["displayName"] = displayName, ["securityEnabled"] = securityEnabled });
        groups[^1]["securityIdentifier"] = "S-1-12-1-" + string.Join('-', Enumerable.Range(0, 4).Select(part =>
            BitConverter.ToUInt32(Guid.Parse(id).ToByteArray(), part * 4).ToString(CultureInfo.InvariantCulture)));
        lock (gate)
        {
            members[id] = [.. memberIds];
        }

        return id;
    }

    /// <summary>A directory role the device is a member of: memberOf lists it, but it is no group.</summary>
    public void AddRole(string displayName, string memberId)
    {
        var id = Add(roles, new JsonObject { ["displayName"] = displayName });
        lock (gate)
        {
            members[id] = [memberId];
        }
    }

    public string AddAutopilotDevice(string serialNumber, string? groupTag = null) =>
        Add(autopilotDevices, new JsonObject { ["serialNumber"] = serialNumber, ["groupTag"] = groupTag });

    public bool IsMember(string groupId, string memberId)
    {
        lock (gate)
        {
            return members.TryGetValue(groupId, out var set) && set.Contains(memberId);
        }
    }

    public IReadOnlyList<string> AutopilotSerialNumbers()
    {
        lock (gate)
        {
            return [.. autopilotDevices.Select(device => (string)device["serialNumber"]!)];
        }
    }

    /// <summary>The hardware hash and group tag an import received.</summary>
    public (byte[] HardwareIdentifier, string? GroupTag) Imported(string serialNumber)
    {
        lock (gate)
        {
            var record = imports.Values.Single(import => import.SerialNumber == serialNumber);
            return (record.HardwareIdentifier, record.GroupTag);
        }
    }

    /// <summary>The requests served so far ("GET /devices?…"), batch items included.</summary>
    public IReadOnlyList<string> Requests()
    {
        lock (gate)
        {
            return [.. requests.Select(request => request.Request)];
        }
    }

    /// <summary>The requests served so far with their place in the order of all fake servers' requests.</summary>
    public IReadOnlyList<(long Sequence, string Request)> SequencedRequests()
    {
        lock (gate)
        {
            return [.. requests];
        }
    }

    public IReadOnlyList<int> BatchSizes()
    {
        lock (gate)
        {
            return [.. batchSizes];
        }
    }

    /// <summary>The next <paramref name="count"/> requests whose path starts with <paramref name="pathPrefix"/> fail.</summary>
    public void Fail(string pathPrefix, int count, int status, int? retryAfterSeconds = null)
    {
        lock (gate)
        {
            faults.Add(new Fault(pathPrefix, count, status, retryAfterSeconds));
        }
    }

    /// <summary>The next <paramref name="count"/> batch items are answered 429 inside a successful batch.</summary>
    public void ThrottleBatchItems(int count, int retryAfterSeconds)
    {
        lock (gate)
        {
            throttledBatchItems = count;
            throttledBatchItemsRetryAfter = retryAfterSeconds;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private string Add(List<JsonObject> collection, JsonObject item)
    {
        var id = Guid.NewGuid().ToString();
        item["id"] = id;
        lock (gate)
        {
            collection.Add(item);
        }

        return id;
    }

    /// <summary>A fault of the fake itself is answered 500 with its text, so a failing test shows it.</summary>
    private async Task ServeOrReportAsync(HttpContext context)
    {
        try
        {
            await ServeAsync(context);
        }
        catch (Exception exception) when (exception is InvalidOperationException or FormatException or NullReferenceException or KeyNotFoundException or System.Text.Json.JsonException)
        {
            await WriteAsync(context.Response, Error(500, "FakeGraphFault", exception.ToString()));
        }
    }

    private async Task ServeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        if (!path.StartsWith("/v1.0/", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 404;
            return;
        }

        if (context.Request.Headers.Authorization.ToString() != $"Bearer {Token}")
        {
            await WriteAsync(context.Response, Error(401, "InvalidAuthenticationToken", "Access token validation failure."));
            return;
        }

        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var relative = path["/v1.0".Length..];
        var answer = relative == "/$batch"
            ? InjectedFailure(relative) ?? Batch(body)
            : Handle(context.Request.Method, relative, context.Request.QueryString.Value ?? string.Empty, body);
        await WriteAsync(context.Response, answer);
    }

    private static async Task WriteAsync(HttpResponse response, Answer answer)
    {
        response.StatusCode = answer.Status;
        foreach (var (name, value) in answer.Headers)
        {
            response.Headers[name] = value;
        }

        if (answer.Body is not null)
        {
            response.ContentType = "application/json";
            await response.WriteAsync(answer.Body.ToJsonString());
        }
    }

    private Answer Batch(string body)
    {
        var items = JsonNode.Parse(body)!["requests"]!.AsArray();
        lock (gate)
        {
            batchSizes.Add(items.Count);
        }

        if (items.Count > 20)
        {
            return Error(400, "BadRequest", "A batch holds at most 20 requests.");
        }

        var responses = new JsonArray();
        foreach (var item in items)
        {
            var url = (string)item!["url"]!;
            var query = url.Contains('?', StringComparison.Ordinal) ? url[url.IndexOf('?', StringComparison.Ordinal)..] : string.Empty;
            var itemPath = url.Split('?')[0];
            itemPath = itemPath.StartsWith('/') ? itemPath : "/" + itemPath;
            var answer = ThrottledItem() ?? Handle((string)item["method"]!, itemPath, query, item["body"]?.ToJsonString() ?? string.Empty);
            var headers = new JsonObject();
            foreach (var (name, value) in answer.Headers)
            {
                headers[name] = value;
            }

            responses.Add(new JsonObject
            {
                ["id"] = (string)item["id"]!,
                ["status"] = answer.Status,
                ["headers"] = headers,
                ["body"] = answer.Body?.DeepClone(),
            });
        }

        return new Answer(200, new JsonObject { ["responses"] = responses });
    }

    private Answer? ThrottledItem()
    {
        lock (gate)
        {
            if (throttledBatchItems == 0)
            {
                return null;
            }

            throttledBatchItems--;
            return Error(429, "TooManyRequests", "Too many requests.") with
            {
                Headers = [("Retry-After", throttledBatchItemsRetryAfter.ToString(CultureInfo.InvariantCulture))],
            };
        }
    }

    private Answer? InjectedFailure(string path)
    {
        lock (gate)
        {
            var fault = faults.FirstOrDefault(candidate => path.StartsWith(candidate.PathPrefix, StringComparison.Ordinal) && candidate.Remaining != 0);
            if (fault is null)
            {
                return null;
            }

            fault.Remaining--;
            var answer = Error(fault.Status, fault.Status == 429 ? "TooManyRequests" : "ServiceUnavailable", "Injected failure.");
            return fault.RetryAfterSeconds is { } seconds
                ? answer with { Headers = [("Retry-After", seconds.ToString(CultureInfo.InvariantCulture))] }
                : answer;
        }
    }

    private Answer Handle(string method, string path, string query, string body)
    {
        lock (gate)
        {
            requests.Add((Interlocked.Increment(ref sequence), $"{method} {path}{query}"));
        }

        if (InjectedFailure(path) is { } fault)
        {
            return fault;
        }

        var parameters = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query);
        var filter = parameters.TryGetValue("$filter", out var filterValues) ? filterValues.ToString() : null;
        var segments = path.Trim('/').Split('/');
        lock (gate)
        {
            return (method, segments) switch
            {
                ("GET", ["organization"]) => Page([Organization], path, parameters),
                ("GET", ["users"]) => Page(Filter(users, filter), path, parameters),
                ("GET", ["devices"]) => Page(Filter(devices, filter), path, parameters),
                ("GET", ["groups"]) => Page(Filter(groups, filter), path, parameters),
                ("GET", ["groups", var id]) => groups.FirstOrDefault(group => (string)group["id"]! == id) is { } group
                    ? new Answer(200, (JsonObject)group.DeepClone())
                    : NotFound(id),
                ("GET", ["devices", var id, "memberOf"]) => Page(MemberOf(id, transitive: false), path, parameters),
                ("GET", ["devices", var id, "transitiveMemberOf"]) => Page(MemberOf(id, transitive: true), path, parameters),
                ("POST", ["groups", var id, "members", "$ref"]) => AddMember(id, body),
                ("POST", ["deviceManagement", "importedWindowsAutopilotDeviceIdentities"]) => Import(body),
                ("GET", ["deviceManagement", "importedWindowsAutopilotDeviceIdentities", var id]) => ReadImport(id),
                ("GET", ["deviceManagement", "windowsAutopilotDeviceIdentities"]) => Page(Filter(autopilotDevices, filter), path, parameters),
                ("DELETE", ["deviceManagement", "windowsAutopilotDeviceIdentities", var id]) =>
                    autopilotDevices.RemoveAll(device => (string)device["id"]! == id) > 0 ? new Answer(200, null) : NotFound(id),
                _ => Error(400, "BadRequest", $"The fake Graph does not serve {method} {path}."),
            };
        }
    }

    private List<JsonObject> MemberOf(string memberId, bool transitive)
    {
        var found = new List<JsonObject>();
        var pending = new Queue<string>([memberId]);
        var seen = new HashSet<string>();
        while (pending.TryDequeue(out var current))
        {
            foreach (var (containerId, set) in members)
            {
                if (!set.Contains(current) || !seen.Add(containerId))
                {
                    continue;
                }

                if (groups.FirstOrDefault(group => (string)group["id"]! == containerId) is { } group)
                {
                    var copy = (JsonObject)group.DeepClone();
                    copy["@odata.type"] = "#microsoft.graph.group";
                    found.Add(copy);
                    if (transitive)
                    {
                        pending.Enqueue(containerId);
                    }
                }
                else if (roles.FirstOrDefault(role => (string)role["id"]! == containerId) is { } role)
                {
                    var copy = (JsonObject)role.DeepClone();
                    copy["@odata.type"] = "#microsoft.graph.directoryRole";
                    found.Add(copy);
                }
            }
        }

        return found;
    }

    private Answer AddMember(string groupId, string body)
    {
        if (!members.TryGetValue(groupId, out var set) || !groups.Any(group => (string)group["id"]! == groupId))
        {
            return NotFound(groupId);
        }

        var reference = (string?)JsonNode.Parse(body)!["@odata.id"] ?? throw new InvalidOperationException("The members/$ref body names no @odata.id: " + body);
        var memberId = reference[(reference.LastIndexOf('/') + 1)..];
        if (!devices.Any(device => (string)device["id"]! == memberId) && !users.Any(user => (string)user["id"]! == memberId))
        {
            return NotFound(memberId);
        }

        return set.Add(memberId)
            ? new Answer(204, null)
            : Error(400, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'members'.");
    }

    private Answer Import(string body)
    {
        var request = JsonNode.Parse(body)!;
        var id = Guid.NewGuid().ToString();
        var serialNumber = (string)request["serialNumber"]!;
        imports[id] = new ImportRecord(id, serialNumber, Convert.FromBase64String((string)request["hardwareIdentifier"]!), (string?)request["groupTag"]);
        return new Answer(201, imports[id].ToJson("unknown"));
    }

    private Answer ReadImport(string id)
    {
        if (!imports.TryGetValue(id, out var record))
        {
            return NotFound(id);
        }

        record.Reads++;
        if (record.Reads <= ImportReadsUntilDone)
        {
            return new Answer(200, record.ToJson(record.Reads == 1 ? "unknown" : "pending"));
        }

        if (record.Final is null)
        {
            if (SerialNumbersOfOtherTenants.Contains(record.SerialNumber))
            {
                record.Final = ("error", 808, "ZtdDeviceAssignedToOtherTenant");
            }
            else if (autopilotDevices.Any(device => string.Equals((string)device["serialNumber"]!, record.SerialNumber, StringComparison.OrdinalIgnoreCase)))
            {
                record.Final = ("error", 806, "ZtdDeviceAlreadyAssigned");
            }
            else
            {
                record.Final = ("complete", 0, null);
                autopilotDevices.Add(new JsonObject
                {
                    ["id"] = Guid.NewGuid().ToString(),
                    ["serialNumber"] = record.SerialNumber,
                    ["groupTag"] = record.GroupTag,
                });
            }
        }

        return new Answer(200, record.ToJson(record.Final.Value.Status, record.Final.Value.Code, record.Final.Value.Name));
    }

    private static List<JsonObject> Filter(List<JsonObject> items, string? filter)
    {
        if (filter is null)
        {
            return items;
        }

        var equals = EqualsFilter().Match(filter);
        if (equals.Success)
        {
            var value = equals.Groups["value"].Value.Replace("''", "'", StringComparison.Ordinal);
            return [.. items.Where(item => string.Equals((string?)item[equals.Groups["field"].Value], value, StringComparison.OrdinalIgnoreCase))];
        }

        var contains = ContainsFilter().Match(filter);
        if (contains.Success)
        {
            var value = contains.Groups["value"].Value.Replace("''", "'", StringComparison.Ordinal);
            return [.. items.Where(item => ((string?)item[contains.Groups["field"].Value])?.Contains(value, StringComparison.OrdinalIgnoreCase) == true)];
        }

        throw new InvalidOperationException($"The fake Graph does not understand $filter={filter}.");
    }

    /// <summary>One page of a collection; the next link carries the offset in $skiptoken, like Graph's opaque token.</summary>
    private Answer Page(List<JsonObject> items, string path, Dictionary<string, Microsoft.Extensions.Primitives.StringValues> parameters)
    {
        var offset = parameters.TryGetValue("$skiptoken", out var token) ? int.Parse(token.ToString(), CultureInfo.InvariantCulture) : 0;
        var top = parameters.TryGetValue("$top", out var topValue) ? int.Parse(topValue.ToString(), CultureInfo.InvariantCulture) : 100;
        var size = Math.Min(top, PageSize);
        var page = new JsonObject { ["value"] = new JsonArray([.. items.Skip(offset).Take(size).Select(item => item.DeepClone())]) };
        if (offset + size < items.Count)
        {
            var query = new StringBuilder($"?$skiptoken={offset + size}&$top={top}");
            if (parameters.TryGetValue("$filter", out var filter))
            {
                query.Append("&$filter=").Append(Uri.EscapeDataString(filter.ToString()));
            }

            page["@odata.nextLink"] = $"{BaseUrl}{path}{query}";
        }

        return new Answer(200, page);
    }

    private static Answer NotFound(string id) =>
        Error(404, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.");

    private static Answer Error(int status, string code, string message) =>
        new(status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    [GeneratedRegex(@"^(?<field>\w+) eq '(?<value>(?:[^']|'')*)'$")]
    private static partial Regex EqualsFilter();

    [GeneratedRegex(@"^contains\((?<field>\w+),\s*'(?<value>(?:[^']|'')*)'\)$")]
    private static partial Regex ContainsFilter();

    private sealed record Answer(int Status, JsonObject? Body)
    {
        public (string Name, string Value)[] Headers { get; init; } = [];
    }

    private sealed class Fault(string pathPrefix, int remaining, int status, int? retryAfterSeconds)
    {
        public string PathPrefix { get; } = pathPrefix;

        public int Remaining { get; set; } = remaining;

        public int Status { get; } = status;

        public int? RetryAfterSeconds { get; } = retryAfterSeconds;
    }

    private sealed class ImportRecord(string id, string serialNumber, byte[] hardwareIdentifier, string? groupTag)
    {
        public string SerialNumber { get; } = serialNumber;

        public byte[] HardwareIdentifier { get; } = hardwareIdentifier;

        public string? GroupTag { get; } = groupTag;

        public int Reads { get; set; }

        public (string Status, int Code, string? Name)? Final { get; set; }

        public JsonObject ToJson(string status, int code = 0, string? name = null) => new()
        {
            ["@odata.type"] = "#microsoft.graph.importedWindowsAutopilotDeviceIdentity",
            ["id"] = id,
            ["serialNumber"] = SerialNumber,
            ["groupTag"] = GroupTag,
            ["state"] = new JsonObject
            {
                ["deviceImportStatus"] = status,
                ["deviceRegistrationId"] = status == "complete" ? Guid.NewGuid().ToString() : null,
                ["deviceErrorCode"] = code,
                ["deviceErrorName"] = name,
            },
        };
    }
}
