using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// Registry values as raw bytes with their type (RegEnumValueW, RegSetValueExW), so that what is copied or restored
/// is byte for byte what Windows held, whatever the type; keys are paths below a predefined root key.
/// </summary>
[SupportedOSPlatform("windows")]
internal static class RawRegistry
{
    private const int MaxValueName = 16384;

    public static int ReadValues(nint root, string path, out IReadOnlyList<RegistryValue> values)
    {
        var found = new List<RegistryValue>();
        values = found;
        var opened = NativeMethods.RegOpenKeyEx(root, path, 0, NativeMethods.KeyRead, out var key);
        if (opened != NativeMethods.Success)
        {
            return opened;
        }

        try
        {
            var name = new char[MaxValueName];
            var data = new byte[4096];
            for (uint index = 0; ; index++)
            {
                var nameLength = (uint)name.Length;
                var dataLength = (uint)data.Length;
                var error = NativeMethods.RegEnumValue(key, index, name, ref nameLength, 0, out var type, data, ref dataLength);
                if (error == NativeMethods.ErrorMoreData)
                {
                    data = new byte[Math.Max(dataLength, (uint)data.Length * 2)];
                    index--;
                    continue;
                }

                if (error == NativeMethods.ErrorNoMoreItems)
                {
                    return NativeMethods.Success;
                }

                if (error != NativeMethods.Success)
                {
                    return error;
                }

                found.Add(new RegistryValue(new string(name, 0, (int)nameLength), (int)type, data.AsSpan(0, (int)dataLength).ToArray()));
            }
        }
        finally
        {
            _ = NativeMethods.RegCloseKey(key);
        }
    }

    public static int GetValue(nint root, string path, string name, out RegistryValue? value)
    {
        value = null;
        var opened = NativeMethods.RegOpenKeyEx(root, path, 0, NativeMethods.KeyRead, out var key);
        if (opened != NativeMethods.Success)
        {
            return opened;
        }

        try
        {
            uint length = 0;
            var error = NativeMethods.RegQueryValueEx(key, name, 0, out _, null, ref length);
            if (error != NativeMethods.Success)
            {
                return error;
            }

            var data = new byte[length];
            error = NativeMethods.RegQueryValueEx(key, name, 0, out var type, data, ref length);
            if (error == NativeMethods.Success)
            {
                value = new RegistryValue(name, (int)type, data.AsSpan(0, (int)length).ToArray());
            }

            return error;
        }
        finally
        {
            _ = NativeMethods.RegCloseKey(key);
        }
    }

    /// <summary>Creates the key when missing, writes <paramref name="values"/>, and when <paramref name="exactly"/> deletes every other value.</summary>
    public static int WriteValues(nint root, string path, IReadOnlyList<RegistryValue> values, bool exactly)
    {
        var created = NativeMethods.RegCreateKeyEx(root, path, 0, null, 0, NativeMethods.KeyAllAccess, 0, out var key, out _);
        if (created != NativeMethods.Success)
        {
            return created;
        }

        try
        {
            if (exactly)
            {
                var read = ReadValues(root, path, out var existing);
                if (read != NativeMethods.Success)
                {
                    return read;
                }

                foreach (var stale in existing.Where(e => !values.Any(v => string.Equals(v.Name, e.Name, StringComparison.OrdinalIgnoreCase))))
                {
                    var deleted = NativeMethods.RegDeleteValue(key, stale.Name);
                    if (deleted != NativeMethods.Success)
                    {
                        return deleted;
                    }
                }
            }

            foreach (var value in values)
            {
                var error = NativeMethods.RegSetValueEx(key, value.Name, 0, (uint)value.Type, value.Data, (uint)value.Data.Length);
                if (error != NativeMethods.Success)
                {
                    return error;
                }
            }

            return NativeMethods.Success;
        }
        finally
        {
            _ = NativeMethods.RegCloseKey(key);
        }
    }

    public static int DeleteValue(nint root, string path, string name)
    {
        var opened = NativeMethods.RegOpenKeyEx(root, path, 0, NativeMethods.KeyAllAccess, out var key);
        if (opened != NativeMethods.Success)
        {
            return opened == NativeMethods.ErrorFileNotFound ? NativeMethods.Success : opened;
        }

        try
        {
            var error = NativeMethods.RegDeleteValue(key, name);
            return error == NativeMethods.ErrorFileNotFound ? NativeMethods.Success : error;
        }
        finally
        {
            _ = NativeMethods.RegCloseKey(key);
        }
    }

    public static int SubkeyNames(nint root, string path, out IReadOnlyList<string> names)
    {
        var found = new List<string>();
        names = found;
        var opened = NativeMethods.RegOpenKeyEx(root, path, 0, NativeMethods.KeyRead, out var key);
        if (opened != NativeMethods.Success)
        {
            return opened;
        }

        try
        {
            var name = new char[256];
            for (uint index = 0; ; index++)
            {
                var length = (uint)name.Length;
                var error = NativeMethods.RegEnumKeyEx(key, index, name, ref length, 0, 0, 0, 0);
                if (error == NativeMethods.ErrorNoMoreItems)
                {
                    return NativeMethods.Success;
                }

                if (error != NativeMethods.Success)
                {
                    return error;
                }

                found.Add(new string(name, 0, (int)length));
            }
        }
        finally
        {
            _ = NativeMethods.RegCloseKey(key);
        }
    }

    public static bool Exists(nint root, string path)
    {
        if (NativeMethods.RegOpenKeyEx(root, path, 0, NativeMethods.KeyRead, out var key) != NativeMethods.Success)
        {
            return false;
        }

        _ = NativeMethods.RegCloseKey(key);
        return true;
    }

    /// <summary>Deletes the key and everything under it; success when it is already gone.</summary>
    public static int DeleteTree(nint root, string path)
    {
        var error = NativeMethods.RegDeleteTree(root, path);
        if (error == NativeMethods.Success)
        {
            error = NativeMethods.RegDeleteKey(root, path);
        }

        return error == NativeMethods.ErrorFileNotFound ? NativeMethods.Success : error;
    }
}
