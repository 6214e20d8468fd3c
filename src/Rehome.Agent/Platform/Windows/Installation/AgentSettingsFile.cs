using System.Text.Json.Nodes;
using Rehome.Agent.Journal;

namespace Rehome.Agent.Platform.Windows.Installation;

/// <summary>What the installer writes for the agent: its server, its one-time configuration key, its poll time.</summary>
internal sealed record AgentSettings(string ServerUrl, string? ConfigurationKey, int? PollSeconds);

/// <summary>
/// The agent's settings on Windows: <c>%ProgramData%\Rehome\agent.json</c>, in the protected root folder, so only
/// SYSTEM and Administrators can read it (a machine-wide environment variable is readable by every user and a
/// service sees it only after a restart). The shape is that of appsettings.json (<c>Rehome:Agent:ServerUrl</c> …), so
/// the host reads it as one more configuration file; other settings an administrator adds there are kept.
/// The configuration key is removed once the agent has enrolled: it only ever enrolls.
/// </summary>
internal sealed class AgentSettingsFile(string path)
{
    public static string DefaultPath => Path.Combine(ProtectedFolders.DefaultRoot, "agent.json");

    public string FilePath => path;

    /// <summary>Writes <paramref name="settings"/> over the file's Rehome:Agent values, keeping every other value.</summary>
    public void Write(AgentSettings settings)
    {
        var document = Load() ?? [];
        var agent = AgentSection(document, create: true)!;
        agent["ServerUrl"] = settings.ServerUrl;
        if (settings.ConfigurationKey is null)
        {
            agent.Remove("ConfigurationKey");
        }
        else
        {
            agent["ConfigurationKey"] = settings.ConfigurationKey;
        }

        if (settings.PollSeconds is { } seconds)
        {
            agent["PollSeconds"] = seconds;
        }

        DurableFile.WriteJson(path, document);
    }

    /// <summary>The Rehome:Agent values in the file, or null when there is no file.</summary>
    public AgentSettings? Read()
    {
        if (Load() is not { } document || AgentSection(document, create: false) is not { } agent)
        {
            return null;
        }

        return new AgentSettings(
            agent["ServerUrl"]?.GetValue<string>() ?? "",
            agent["ConfigurationKey"]?.GetValue<string>(),
            agent["PollSeconds"]?.GetValue<int>());
    }

    /// <summary>Removes the configuration key from the file; true when there was one. Idempotent.</summary>
    public bool ForgetConfigurationKey()
    {
        if (Load() is not { } document || AgentSection(document, create: false) is not { } agent || !agent.Remove("ConfigurationKey"))
        {
            return false;
        }

        DurableFile.WriteJson(path, document);
        return true;
    }

    private JsonObject? Load() => File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))?.AsObject() : null;

    private static JsonObject? AgentSection(JsonObject document, bool create)
    {
        if (document["Rehome"] is not JsonObject rehome)
        {
            if (!create)
            {
                return null;
            }

            rehome = [];
            document["Rehome"] = rehome;
        }

        if (rehome["Agent"] is not JsonObject agent)
        {
            if (!create)
            {
                return null;
            }

            agent = [];
            rehome["Agent"] = agent;
        }

        return agent;
    }
}
