using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rehome.Protocol;

/// <summary>Constants both sides of /agent/v1 agree on.</summary>
public static class AgentProtocol
{
    /// <summary>The version in every gateway path; a breaking change of any message makes a new one.</summary>
    public const string Version = "v1";

    public const string BasePath = "/agent/" + Version;

    /// <summary>An agent's own credential: <c>rha_&lt;agent id&gt;.&lt;secret&gt;</c>, sent as <c>Authorization: Agent …</c>.</summary>
    public const string CredentialPrefix = "rha_";

    public const string AuthorizationScheme = "Agent";

    /// <summary>The header that carries the job's lease token on a GET (a provisioning package download).</summary>
    public const string LeaseHeader = "X-Rehome-Lease";

    /// <summary>The longest a poll waits for a job before answering 204; the agent then polls again.</summary>
    public const int MaxPollSeconds = 55;

    /// <summary>
    /// The poll's query parameter (<c>true</c>) by which an agent says its previous poll reached the server but got no
    /// answer (a timeout, a connection lost midway): a job leased to that poll and sent again then gets a whole lease from
    /// now, each time, for a bounded time. A restarted agent never says it on its first poll, so a device that fails
    /// before its first report still sees the lease lapse.
    /// </summary>
    public const string PreviousPollUnansweredParameter = "unanswered";

    /// <summary>
    /// Longest pause, in seconds, between two progress reports of an agent left to its own pace (a quarter of the lease
    /// when shorter); the server paces agents only beyond it.
    /// </summary>
    public const int OwnReportSeconds = 5;

    /// <summary>The longest step name or error code the server takes; longer texts are refused (400), so agents cut theirs.</summary>
    public const int MaxStepLength = 100;

    /// <summary>The longest progress message, error message or item error.</summary>
    public const int MaxMessageLength = 4000;

    /// <summary>The longest item (a path, a key, a group) in an item result.</summary>
    public const int MaxItemLength = 2048;

    /// <summary>The longest log line.</summary>
    public const int MaxLogLineLength = 8000;

    /// <summary>The JSON settings of every gateway message: camelCase, enums as names.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = CreateJsonOptions();

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
