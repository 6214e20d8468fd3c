using Rehome.Core.Validation;
using Rehome.Protocol;
using Rehome.Security.Sids;

namespace Rehome.Server.Gateway;

/// <summary>Checks what agents send before anything is stored: a bad message gets a clear 400 and changes nothing.</summary>
public static class AgentMessageRules
{
    public const int DeviceNameMaxLength = 63;
    public const int FieldMaxLength = 256;
    public const int StepMaxLength = 100;
    public const int MessageMaxLength = 4000;
    public const int ItemMaxLength = 2048;
    public const int LogLineMaxLength = 8000;

    private static readonly string[] Levels = ["Trace", "Debug", "Information", "Warning", "Error", "Critical"];

    public static RuleViolations Check(DeviceFacts? facts)
    {
        var violations = new RuleViolations();
        if (facts is null)
        {
            violations.Add("device", "Required", "The device's facts are required.");
            return violations;
        }
        if (violations.Require("device.deviceName", facts.DeviceName, "The device name"))
        {
            violations.MaxLength("device.deviceName", facts.DeviceName, DeviceNameMaxLength, "The device name");
            Printable(violations, "device.deviceName", facts.DeviceName);
        }
        violations.MaxLength("device.osVersion", facts.OsVersion, FieldMaxLength, "The OS version");
        violations.MaxLength("device.agentVersion", facts.AgentVersion, FieldMaxLength, "The agent version");
        violations.MaxLength("device.domainName", facts.DomainName, FieldMaxLength, "The domain name");
        violations.MaxLength("device.tenantId", facts.TenantId, FieldMaxLength, "The tenant id");
        violations.MaxLength("device.entraDeviceId", facts.EntraDeviceId, FieldMaxLength, "The Entra ID device id");
        if (facts.LoggedOnUsers is { Count: > 100 })
        {
            violations.Add("device.loggedOnUsers", "TooMany", "At most 100 logged-on users are reported.");
        }
        foreach (var user in facts.LoggedOnUsers ?? [])
        {
            violations.MaxLength("device.loggedOnUsers", user, FieldMaxLength, "A logged-on user");
        }
        if (facts.ProfileSids is { Count: > MaxProfiles })
        {
            violations.Add("device.profileSids", "TooMany", $"At most {MaxProfiles} profile SIDs are reported.");
        }
        for (var i = 0; i < (facts.ProfileSids?.Count ?? 0); i++)
        {
            if (!SecurityIdentifier.TryParse(facts.ProfileSids![i], out _))
            {
                violations.Add($"device.profileSids[{i}]", "InvalidSid", $"Profile SID {i} is not a SID in S-1-… form.");
            }
        }
        if (facts.FreeDiskSpaceBytes is < 0)
        {
            violations.Add("device.freeDiskSpaceBytes", "Negative", "The free disk space cannot be negative.");
        }
        return violations;
    }

    /// <summary>More profiles than any shared device holds; bounds what one facts message stores.</summary>
    public const int MaxProfiles = 500;

    /// <summary>A return ticket request: the device's own name and a join state it can be in.</summary>
    public static RuleViolations Check(ReturnTicketRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var violations = new RuleViolations();
        if (violations.Require("computerName", request.ComputerName, "The computer name"))
        {
            violations.MaxLength("computerName", request.ComputerName, DeviceNameMaxLength, "The computer name");
            Printable(violations, "computerName", request.ComputerName);
        }
        if (!Enum.IsDefined(request.JoinType))
        {
            violations.Add("joinType", "UnknownValue", "The join type must be Workgroup, ActiveDirectory, HybridEntraId or EntraId.");
        }
        violations.MaxLength("domainName", request.DomainName, FieldMaxLength, "The domain name");
        violations.MaxLength("tenantId", request.TenantId, FieldMaxLength, "The tenant id");
        return violations;
    }

    public static RuleViolations Check(ProgressReport report)
    {
        var violations = new RuleViolations();
        violations.Require("step", report.Step, "The step");
        violations.MaxLength("step", report.Step, StepMaxLength, "The step");
        violations.MaxLength("message", report.Message, MessageMaxLength, "The message");
        Counters(violations, report.ItemsDone, report.ItemsTotal, report.ItemsChanged, report.ItemsFailed);
        Items(violations, report.Items);
        return violations;
    }

    public static RuleViolations Check(CompletionReport report)
    {
        var violations = new RuleViolations();
        if (!Enum.IsDefined(report.Status))
        {
            violations.Add("status", "UnknownStatus", "The status must be Finished, Exceptions, Failed or Stopped.");
        }
        violations.MaxLength("errorCode", report.ErrorCode, StepMaxLength, "The error code");
        violations.MaxLength("errorMessage", report.ErrorMessage, MessageMaxLength, "The error message");
        Counters(violations, report.ItemsDone, report.ItemsTotal, report.ItemsChanged, report.ItemsFailed);
        return violations;
    }

    public static RuleViolations Check(LogChunk chunk)
    {
        var violations = new RuleViolations();
        if (chunk.Sequence < 0)
        {
            violations.Add("sequence", "Negative", "The chunk sequence starts at 0.");
        }
        if (chunk.Lines is null || chunk.Lines.Count is 0 or > LogChunk.MaxLines)
        {
            violations.Add("lines", "Count", $"A chunk holds 1 to {LogChunk.MaxLines} lines.");
            return violations;
        }
        for (var i = 0; i < chunk.Lines.Count; i++)
        {
            var line = chunk.Lines[i];
            if (line is null || !Levels.Contains(line.Level))
            {
                violations.Add($"lines[{i}].level", "UnknownLevel", $"Line {i}: the level must be one of {string.Join(", ", Levels)}.");
                continue;
            }
            violations.MaxLength($"lines[{i}].text", line.Text, LogLineMaxLength, $"Line {i}");
        }
        return violations;
    }

    private static void Counters(RuleViolations violations, params int[] counters)
    {
        if (counters.Any(c => c < 0))
        {
            violations.Add("items", "Negative", "Item counters cannot be negative.");
        }
    }

    private static void Items(RuleViolations violations, IReadOnlyList<ItemResult>? items)
    {
        if (items is { Count: > ProgressReport.MaxItems })
        {
            violations.Add("items", "TooMany", $"At most {ProgressReport.MaxItems} item results per report.");
            return;
        }
        for (var i = 0; i < (items?.Count ?? 0); i++)
        {
            var item = items![i];
            if (item is null || string.IsNullOrEmpty(item.Item) || !Enum.IsDefined(item.Outcome))
            {
                violations.Add($"items[{i}]", "Invalid", $"Item result {i} needs an item and an outcome.");
                continue;
            }
            violations.MaxLength($"items[{i}].item", item.Item, ItemMaxLength, $"Item {i}");
            violations.MaxLength($"items[{i}].error", item.Error, MessageMaxLength, $"Item {i}'s error");
        }
    }

    private static void Printable(RuleViolations violations, string field, string value)
    {
        if (value.Any(char.IsControl))
        {
            violations.Add(field, "ControlCharacters", "The device name contains control characters.");
        }
    }
}
