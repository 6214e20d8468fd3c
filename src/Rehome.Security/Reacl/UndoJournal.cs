using System.Buffers.Binary;
using System.Text;
using Rehome.Security.Stores;

namespace Rehome.Security.Reacl;

/// <summary>
/// An append-only file of (path, original descriptor) records, written before each change, so a revert can put
/// every descriptor back byte-for-byte. A record cut short by a crash is ignored on read.
/// </summary>
public sealed class UndoJournal : IDisposable
{
    private static readonly byte[] Magic = "RHUNDO1\n"u8.ToArray();
    private readonly FileStream stream;

    private UndoJournal(FileStream stream)
    {
        this.stream = stream;
    }

    /// <summary>Opens the journal for appending, creating it when missing.</summary>
    public static UndoJournal Open(string file)
    {
        var stream = new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        if (stream.Length == 0)
        {
            stream.Write(Magic);
        }
        else
        {
            var validLength = ValidLength(stream);
            stream.SetLength(validLength); // drop a record torn by a crash, so new records follow a whole one
        }

        stream.Seek(0, SeekOrigin.End);
        return new UndoJournal(stream);
    }

    /// <summary>Appends a record and hands it to the operating system before the caller changes the item.</summary>
    public void Record(string path, ReadOnlySpan<byte> originalDescriptor)
    {
        ArgumentNullException.ThrowIfNull(path);
        var pathLength = Encoding.UTF8.GetByteCount(path);
        var record = new byte[8 + pathLength + originalDescriptor.Length];
        BinaryPrimitives.WriteInt32LittleEndian(record, pathLength);
        Encoding.UTF8.GetBytes(path, record.AsSpan(4));
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(4 + pathLength), originalDescriptor.Length);
        originalDescriptor.CopyTo(record.AsSpan(8 + pathLength));
        stream.Write(record);
        stream.Flush();
    }

    /// <summary>Forces the records to disk.</summary>
    public void Flush() => stream.Flush(flushToDisk: true);

    public void Dispose() => stream.Dispose();

    /// <summary>Every whole record in order (a path may appear more than once; its first record is the original).</summary>
    public static IReadOnlyList<(string Path, byte[] Descriptor)> ReadAll(string file)
    {
        var records = new List<(string, byte[])>();
        if (!File.Exists(file))
        {
            return records;
        }

        var data = File.ReadAllBytes(file);
        if (data.Length < Magic.Length || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{file} is not an undo journal.");
        }

        var position = Magic.Length;
        while (TryReadRecord(data, ref position, out var path, out var descriptor))
        {
            records.Add((path, descriptor));
        }

        return records;
    }

    /// <summary>
    /// Writes every journaled item's original descriptor back (newest change first); returns how many items were
    /// restored and the items that could not be.
    /// </summary>
    public static RevertResult Revert(ISecurityStore store, string file)
    {
        ArgumentNullException.ThrowIfNull(store);
        var originals = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (path, descriptor) in ReadAll(file))
        {
            if (originals.TryAdd(path, descriptor))
            {
                order.Add(path);
            }
        }

        var restored = 0;
        var errors = new List<WalkError>();
        for (var index = order.Count - 1; index >= 0; index--)
        {
            var path = order[index];
            try
            {
                store.WriteDescriptor(path, originals[path]);
                restored++;
            }
            catch (SecurityStoreException exception)
            {
                errors.Add(new WalkError(path, exception.Message, exception.Kind));
            }
        }

        return new RevertResult(restored, errors);
    }

    private static long ValidLength(FileStream stream)
    {
        var data = new byte[stream.Length];
        stream.Seek(0, SeekOrigin.Begin);
        stream.ReadExactly(data);
        if (data.Length < Magic.Length || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{stream.Name} is not an undo journal.");
        }

        var position = Magic.Length;
        while (TryReadRecord(data, ref position, out _, out _))
        {
        }

        return position;
    }

    private static bool TryReadRecord(byte[] data, ref int position, out string path, out byte[] descriptor)
    {
        path = string.Empty;
        descriptor = [];
        if (data.Length - position < 4)
        {
            return false;
        }

        var pathLength = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(position));
        if (pathLength < 0 || data.Length - position - 4 < pathLength + 4L)
        {
            return false;
        }

        var descriptorLength = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(position + 4 + pathLength));
        if (descriptorLength < 0 || data.Length - position - 8 - pathLength < descriptorLength)
        {
            return false;
        }

        path = Encoding.UTF8.GetString(data, position + 4, pathLength);
        descriptor = data.AsSpan(position + 8 + pathLength, descriptorLength).ToArray();
        position += 8 + pathLength + descriptorLength;
        return true;
    }
}

/// <summary>The outcome of <see cref="UndoJournal.Revert"/>.</summary>
public sealed record RevertResult(int Restored, IReadOnlyList<WalkError> Errors);
