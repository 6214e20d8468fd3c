using System.Text.Json.Nodes;
using CsCheck;

namespace Rehome.Server.Tests.Properties;

/// <summary>What a careless or hostile client does to a valid JSON body, at the node the mutation picks.</summary>
public enum MutationKind
{
    Drop,
    Null,
    WrongType,
    NullInArray,
    HugeString,
    ControlCharacters,
    DeepNesting,
    DuplicateKey,
    UnknownEnumName,
    BadGuid,
    OutOfRangeNumber,
    UnknownProperty,
    NotAnObject,
}

/// <summary>One mutation of a body: its kind, the node it hits (an index into the body's nodes) and a variant.</summary>
public sealed record JsonMutation(MutationKind Kind, int Target, int Variant)
{
    public static readonly Gen<JsonMutation> Gen = CsCheck.Gen.Select(
        CsCheck.Gen.Enum<MutationKind>(), CsCheck.Gen.Int[0, 1000], CsCheck.Gen.Int[0, 1000], (kind, target, variant) => new JsonMutation(kind, target, variant));

    private static readonly JsonNode?[] WrongTypes = [42, "text", true, new JsonArray(), new JsonObject(), 1.5];
    private static readonly string[] ControlTexts = ["a\u0000b", "\u001b[2J\u001b]0;owned\u0007", "bidi \u202Eexe.txt", "two\nlines", "tab\there", "\u0085next", "\ud800"];
    private static readonly string[] BadGuids = ["not-a-guid", "00000000-0000-0000-0000-000000000000", "0f8fad5b-d9cb-469f-a165-70867728950e", "{0f8fad5b-d9cb-469f-a165-70867728950e}", ""];
    private static readonly string[] OutOfRange = ["1e400", "-1", "2147483648", "-9223372036854775809", "99999999999999999999999", "0.5", "-0", "1E+2"];

    /// <summary>The mutated body as text (some mutations, like a duplicate key, exist only as text).</summary>
    public string Apply(JsonNode body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var root = body.DeepClone();
        var nodes = Walk(root).ToList();
        var (parent, key, node) = nodes[Target % nodes.Count];
        switch (Kind)
        {
            case MutationKind.Drop when parent is JsonObject o:
                o.Remove(key!);
                break;
            case MutationKind.Drop when parent is JsonArray a:
                a.RemoveAt(int.Parse(key!, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case MutationKind.Null:
                return Replace(root, parent, key, null);
            case MutationKind.WrongType:
                return Replace(root, parent, key, WrongTypes[Variant % WrongTypes.Length]?.DeepClone());
            case MutationKind.NullInArray:
                if (nodes.Select(n => n.Node).OfType<JsonArray>().ToList() is { Count: > 0 } arrays)
                {
                    arrays[Variant % arrays.Count].Add(null);
                    break;
                }
                return Replace(root, parent, key, new JsonArray(null, null));
            case MutationKind.HugeString:
                return Replace(root, parent, key, new string('x', 1_000 + (Variant * 997)));
            case MutationKind.ControlCharacters:
                return Replace(root, parent, key, ControlTexts[Variant % ControlTexts.Length]);
            case MutationKind.DeepNesting:
                var depth = 60 + Variant;
                return Text(root, parent, key, new string('[', depth) + new string(']', depth));
            case MutationKind.DuplicateKey when root is JsonObject { Count: > 0 } o:
                var first = o.First();
                var text = root.ToJsonString();
                return $"{{\"{first.Key}\":{WrongTypes[Variant % WrongTypes.Length]?.ToJsonString() ?? "null"},{text[1..]}";
            case MutationKind.UnknownEnumName:
                return Replace(root, parent, key, Variant % 2 == 0 ? "NotAKind" : "rejoindomain ");
            case MutationKind.BadGuid:
                return Replace(root, parent, key, BadGuids[Variant % BadGuids.Length]);
            case MutationKind.OutOfRangeNumber:
                return Text(root, parent, key, OutOfRange[Variant % OutOfRange.Length]);
            case MutationKind.UnknownProperty when (node as JsonObject ?? parent as JsonObject ?? root as JsonObject) is { } o:
                o["zz" + Variant] = Variant;
                break;
            case MutationKind.NotAnObject:
                return WrongTypes[Variant % WrongTypes.Length]?.ToJsonString() ?? "null";
            default:
                break;
        }
        return root.ToJsonString();
    }

    /// <summary>Every node with its parent and its key (a property name or an array index), the root first.</summary>
    private static IEnumerable<(JsonNode? Parent, string? Key, JsonNode? Node)> Walk(JsonNode root)
    {
        var pending = new Stack<(JsonNode?, string?, JsonNode?)>();
        pending.Push((null, null, root));
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            yield return current;
            switch (current.Item3)
            {
                case JsonObject o:
                    foreach (var (name, value) in o)
                    {
                        pending.Push((o, name, value));
                    }
                    break;
                case JsonArray a:
                    for (var index = 0; index < a.Count; index++)
                    {
                        pending.Push((a, index.ToString(System.Globalization.CultureInfo.InvariantCulture), a[index]));
                    }
                    break;
                default:
                    break;
            }
        }
    }

    private static string Replace(JsonNode root, JsonNode? parent, string? key, JsonNode? value)
    {
        switch (parent)
        {
            case JsonObject o:
                o[key!] = value;
                return root.ToJsonString();
            case JsonArray a:
                a[int.Parse(key!, System.Globalization.CultureInfo.InvariantCulture)] = value;
                return root.ToJsonString();
            default:
                return value?.ToJsonString() ?? "null";
        }
    }

    /// <summary>The body with raw JSON text in place of one node (for what a JsonNode cannot hold).</summary>
    private static string Text(JsonNode root, JsonNode? parent, string? key, string raw)
    {
        const string marker = "\"__raw_marker__\"";
        var replaced = Replace(root, parent, key, "__raw_marker__");
        return replaced.Replace(marker, raw, StringComparison.Ordinal);
    }
}
