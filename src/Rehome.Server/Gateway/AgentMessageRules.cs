using Rehome.Core.Validation;
using Rehome.Protocol;
using Rehome.Security.Sids;

namespace Rehome.Server.Gateway;

/// <summary>Checks what agents send before anything is stored: a bad message gets a clear 400 and changes nothing.</summary>
public static class AgentMessageRules
{
    public const int DeviceNameMaxLength = 63;
    public const int FieldMaxLength = 256;
    public const int StepMaxLength = AgentProtocol.MaxStepLength;
    public const int MessageMaxLength = AgentProtocol.MaxMessageLength;
    public const int ItemMaxLength = AgentProtocol.MaxItemLength;
    public const int LogLineMaxLength = AgentProtocol.MaxLogLineLength;

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
            violations.Text("device.deviceName", facts.DeviceName, DeviceNameMaxLength, "The device name");
        }
        if (!Enum.IsDefined(facts.JoinType))
        {
            // JSON may carry an enum as a number: one the agent does not know must not be stored as the device's join.
            violations.Add("device.joinType", "UnknownValue", "The join type must be Workgroup, ActiveDirectory, HybridEntraId or EntraId.");
        }
        violations.Text("device.osVersion", facts.OsVersion, FieldMaxLength, "The OS version");
        violations.Text("device.agentVersion", facts.AgentVersion, FieldMaxLength, "The agent version");
        violations.Text("device.domainName", facts.DomainName, FieldMaxLength, "The domain name");
        violations.Text("device.tenantId", facts.TenantId, FieldMaxLength, "The tenant id");
        violations.Text("device.entraDeviceId", facts.EntraDeviceId, FieldMaxLength, "The Entra ID device id");
        if (facts.LoggedOnUsers is { Count: > 100 })
        {
            violations.Add("device.loggedOnUsers", "TooMany", "At most 100 logged-on users are reported.");
        }
        for (var i = 0; i < (facts.LoggedOnUsers?.Count ?? 0); i++)
        {
            if (violations.Require($"device.loggedOnUsers[{i}]", facts.LoggedOnUsers![i], $"Logged-on user {i}"))
            {
                violations.Text($"device.loggedOnUsers[{i}]", facts.LoggedOnUsers[i], FieldMaxLength, $"Logged-on user {i}");
            }
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
            violations.Text("computerName", request.ComputerName, DeviceNameMaxLength, "The computer name");
        }
        if (!Enum.IsDefined(request.JoinType))
        {
            violations.Add("joinType", "UnknownValue", "The join type must be Workgroup, ActiveDirectory, HybridEntraId or EntraId.");
        }
        violations.Text("domainName", request.DomainName, FieldMaxLength, "The domain name");
        violations.Text("tenantId", request.TenantId, FieldMaxLength, "The tenant id");
        return violations;
    }

    public static RuleViolations Check(ProgressReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var violations = new RuleViolations();
        if (violations.Require("step", report.Step, "The step"))
        {
            violations.Text("step", report.Step, StepMaxLength, "The step");
        }
        violations.Text("message", report.Message, MessageMaxLength, "The message", multiLine: true);
        Counters(violations, report.ItemsDone, report.ItemsTotal, report.ItemsChanged, report.ItemsFailed);
        Items(violations, report.Items);
        Areas(violations, report.Areas);
        if (report.LogLines is { Count: > 0 } lines)
        {
            if (report.LogSequence < 0)
            {
                violations.Add("logSequence", "Negative", "The log sequence starts at 0.");
            }
            if (lines.Count > LogChunk.MaxLines)
            {
                violations.Add("logLines", "Count", $"A report carries at most {LogChunk.MaxLines} log lines.");
            }
            else
            {
                Lines(violations, "logLines", lines);
            }
        }
        return violations;
    }

    /// <summary>A directory action: the ids, serial number and hardware hash the server passes on to Microsoft Graph.</summary>
    public static RuleViolations Check(DirectoryActionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var violations = new RuleViolations();
        if (!Enum.IsDefined(request.Action))
        {
            violations.Add("action", "UnknownAction", "The action must be MigrateEntraIdGroups or ImportAutopilotDevice.");
        }
        violations.Text("sourceEntraDeviceId", request.SourceEntraDeviceId, FieldMaxLength, "The source Entra ID device id");
        violations.Text("destinationEntraDeviceId", request.DestinationEntraDeviceId, FieldMaxLength, "The destination Entra ID device id");
        violations.Text("serialNumber", request.SerialNumber, FieldMaxLength, "The serial number");
        violations.Text("hardwareHash", request.HardwareHash, HardwareHashMaxLength, "The hardware hash");
        return violations;
    }

    /// <summary>A Windows hardware hash is about 4 KB of base64; this leaves room and bounds what one request carries.</summary>
    public const int HardwareHashMaxLength = 64 * 1024;

    public static RuleViolations Check(CompletionReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var violations = new RuleViolations();
        if (!Enum.IsDefined(report.Status))
        {
            violations.Add("status", "UnknownStatus", "The status must be Finished, Exceptions, Failed or Stopped.");
        }
        violations.Text("errorCode", report.ErrorCode, StepMaxLength, "The error code");
        violations.Text("errorMessage", report.ErrorMessage, MessageMaxLength, "The error message", multiLine: true);
        Counters(violations, report.ItemsDone, report.ItemsTotal, report.ItemsChanged, report.ItemsFailed);
        Areas(violations, report.Areas);
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
        Lines(violations, "lines", chunk.Lines);
        return violations;
    }

    /// <summary>Log lines, in a chunk or with a progress report: a known level, and text an administrator may read.</summary>
    private static void Lines(RuleViolations violations, string field, IReadOnlyList<LogLine> lines)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line is null)
            {
                violations.Add($"{field}[{i}]", "Required", $"Line {i} is null.");
                continue;
            }
            if (!Levels.Contains(line.Level))
            {
                violations.Add($"{field}[{i}].level", "UnknownLevel", $"Line {i}: the level must be one of {string.Join(", ", Levels)}.");
            }
            if (line.Text is null)
            {
                violations.Add($"{field}[{i}].text", "Required", $"Line {i} has no text (an empty line is \"\").");
                continue;
            }
            violations.Text($"{field}[{i}].text", line.Text, LogLineMaxLength, $"Line {i}", multiLine: true);
        }
    }

    private static void Counters(RuleViolations violations, int done, int total, int changed, int failed)
    {
        if (done < 0 || total < 0 || changed < 0 || failed < 0)
        {
            violations.Add("items", "Negative", "Item counters cannot be negative.");
        }
        else if (done > total)
        {
            violations.Add("itemsDone", "MoreThanTotal", $"{done:N0} items done of {total:N0}: the items done cannot exceed the total.");
        }
    }

    /// <summary>
    /// Per-area counts: each known area once, counts not negative, a problem through the text rule. Changed and failed
    /// are not held to at most seen: areas count in their own units (a group seen once may have several members
    /// changed), and refusing a renewal for it would lapse the lease of a job that works.
    /// </summary>
    private static void Areas(RuleViolations violations, IReadOnlyList<AreaCount>? areas)
    {
        if (areas is { Count: > AreaCount.MaxAreas })
        {
            violations.Add("areas", "TooMany", $"At most {AreaCount.MaxAreas} area counts per report (one per area).");
            return;
        }
        var seen = new HashSet<ReaclArea>();
        for (var i = 0; i < (areas?.Count ?? 0); i++)
        {
            var area = areas![i];
            if (area is null || !Enum.IsDefined(area.Area))
            {
                violations.Add($"areas[{i}].area", "UnknownArea", $"Area count {i} needs one of the areas {string.Join(", ", Enum.GetNames<ReaclArea>())}.");
                continue;
            }
            if (!seen.Add(area.Area))
            {
                violations.Add($"areas[{i}].area", "Duplicate", $"Area {area.Area} is counted more than once; send one count per area.");
            }
            if (area.Seen < 0 || area.Changed < 0 || area.Failed < 0)
            {
                violations.Add($"areas[{i}]", "Negative", $"Area {area.Area}'s counts cannot be negative.");
            }
            violations.Text($"areas[{i}].problem", area.Problem, MessageMaxLength, $"Area {area.Area}'s problem", multiLine: true);
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
            violations.Text($"items[{i}].item", item.Item, ItemMaxLength, $"Item {i}");
            violations.Text($"items[{i}].error", item.Error, MessageMaxLength, $"Item {i}'s error", multiLine: true);
        }
    }
}
