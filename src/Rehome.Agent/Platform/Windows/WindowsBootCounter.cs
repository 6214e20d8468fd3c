using System.Buffers.Binary;
using System.Runtime.Versioning;
using Microsoft.Win32;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// Counts the starts of this Windows in <c>HKLM\SOFTWARE\Rehome\Agent</c>. Each boot is recognised by a volatile
/// registry key (<c>ThisBoot</c>, gone after every full shutdown or restart) holding a random boot id; the persistent
/// value <c>BootRecord</c> holds, in one write, the last counted boot id and the count, so a crash between steps never
/// counts a boot twice or loses one. Restarting the service alone does not count: only a new boot does.
/// </summary>
/// <remarks>
/// A Fast Startup "shut down" hibernates the kernel session and keeps volatile keys, so it is not counted; the
/// restarts the agent asks for (the platform's restart) are full restarts and always are.
/// </remarks>
[SupportedOSPlatform("windows")]
public static class WindowsBootCounter
{
    /// <summary>The agent's registry key under HKLM.</summary>
    public const string AgentKeyPath = @"SOFTWARE\Rehome\Agent";

    private const string ThisBootKeyName = "ThisBoot";
    private const string BootIdValue = "BootId";
    private const string RecordValue = "BootRecord";
    private const string ReadableCountValue = "BootCount";
    private const int RecordLength = 24;

    private static readonly Lock Gate = new();

    /// <summary>
    /// Counts this boot if it is not counted yet and returns the count. Idempotent: the service may call it at
    /// start so the count is fresh before anything reads it, and every read of <see cref="Current"/> does the same.
    /// </summary>
    public static long RecordAtServiceStart() => Current;

    /// <summary>How many boots have been counted, this one included.</summary>
    public static long Current
    {
        get
        {
            lock (Gate)
            {
                using var agent = Registry.LocalMachine.CreateSubKey(AgentKeyPath, writable: true);
                using var thisBoot = agent.CreateSubKey(ThisBootKeyName, writable: true, RegistryOptions.Volatile);
                if (thisBoot.GetValue(BootIdValue) is not string text || !Guid.TryParse(text, out var bootId))
                {
                    bootId = Guid.NewGuid();
                    thisBoot.SetValue(BootIdValue, bootId.ToString("D"), RegistryValueKind.String);
                }

                var (countedBoot, count) = agent.GetValue(RecordValue) is byte[] { Length: RecordLength } record
                    ? (new Guid(record.AsSpan(0, 16)), BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(16)))
                    : (Guid.Empty, 0L);
                if (countedBoot == bootId)
                {
                    return count;
                }

                count++;
                var updated = new byte[RecordLength];
                bootId.TryWriteBytes(updated);
                BinaryPrimitives.WriteInt64LittleEndian(updated.AsSpan(16), count);
                agent.SetValue(RecordValue, updated, RegistryValueKind.Binary);
                // For people looking at the registry; BootRecord is the value that counts.
                agent.SetValue(ReadableCountValue, count, RegistryValueKind.QWord);
                return count;
            }
        }
    }
}
