using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Rehome.Core.Validation;
using Rehome.Server.Administration;

namespace Rehome.Server.Api;

/// <summary>
/// What the endpoints never see: a body that is not JSON, a value of the wrong type, an unknown enum name, a
/// duplicate or missing property, a query or route value that does not bind, a body over the limit. Minimal
/// APIs throw these as <see cref="BadHttpRequestException"/> (with <c>ThrowOnBadRequest</c>); this answers each
/// like every other validation failure: problem+json whose <c>errors</c> name the field and what was wrong. The
/// value sent is never repeated (it may be anything), and nothing reaches the log.
/// </summary>
public sealed partial class BadRequestHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
        {
            return false;
        }
        await Problems.From(Describe(bad)).ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>
    /// The safety net under every answer the framework writes by itself (status code pages: an unknown path, a
    /// method not allowed, a media type not taken, a 400 nobody explained): it gets a <c>rule</c> like the others,
    /// and a 400 gets <c>errors</c>, so no client ever meets a bare "Bad Request".
    /// </summary>
    public static void Complete(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var problem = context.ProblemDetails;
        if (problem.Extensions.ContainsKey("rule"))
        {
            return;
        }
        var (rule, detail) = problem.Status switch
        {
            StatusCodes.Status400BadRequest => ("BadRequest", "The request could not be read; send JSON as the API's description says."),
            StatusCodes.Status404NotFound => ("NotFound", "Nothing is at this address."),
            StatusCodes.Status405MethodNotAllowed => ("MethodNotAllowed", "This address does not take this method."),
            StatusCodes.Status413PayloadTooLarge => ("TooLarge", "The request body is larger than this endpoint takes; nothing was changed."),
            StatusCodes.Status415UnsupportedMediaType => ("UnsupportedMediaType", "Send the body as JSON, with Content-Type: application/json."),
            _ => (null, null),
        };
        if (rule is null)
        {
            return;
        }
        problem.Extensions["rule"] = rule;
        problem.Detail ??= detail;
        if (problem.Status == StatusCodes.Status400BadRequest)
        {
            problem.Extensions["errors"] = new[] { new RuleViolation("request", rule, detail!) };
        }
    }

    /// <summary>The failure to answer for a request the framework could not bind.</summary>
    public static Failure Describe(BadHttpRequestException bad)
    {
        ArgumentNullException.ThrowIfNull(bad);
        if (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Failure.ByRule(StatusCodes.Status413PayloadTooLarge, "The request is too large", "TooLarge",
                "The request body is larger than this endpoint takes; nothing was changed.");
        }
        if (bad.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            return Failure.ByRule(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "UnsupportedMediaType",
                "Send the body as JSON, with Content-Type: application/json.");
        }
        if (bad.InnerException is JsonException json)
        {
            return Failure.Validation(FromJson(json));
        }
        if (Parameter().Match(bad.Message) is { Success: true } parameter)
        {
            var name = parameter.Groups["name"].Value;
            var type = parameter.Groups["type"].Value;
            return bad.Message.StartsWith("Failed to bind", StringComparison.Ordinal)
                ? Failure.Validation(name, "InvalidValue", $"The {name} must be {Expected(type)}.")
                : Failure.Validation(IsBody(bad.Message) ? "body" : name, "Required", IsBody(bad.Message) ? "A JSON body is required." : $"The {name} is required.");
        }
        return Failure.Validation("body", "BadRequest", "The request could not be read; send JSON as the API's description says.");
    }

    /// <summary>What was wrong in a JSON body, named by its JSON path.</summary>
    public static IReadOnlyList<RuleViolation> FromJson(JsonException json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var field = Field(json.Path);
        var message = json.Message;
        if (MissingRequired().Match(message) is { Success: true } missing)
        {
            var prefix = field == "body" ? "" : field + ".";
            return [.. missing.Groups["names"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(n => Field(n.Trim('\'')))
                .Select(n => new RuleViolation(prefix + n, "Required", $"The {prefix + n} is required."))];
        }
        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            return [new RuleViolation(field, "DuplicateProperty", $"The {field} is given more than once; give each property once.")];
        }
        if (Conversion().Match(message) is { Success: true } conversion)
        {
            return [new RuleViolation(field, "InvalidValue", $"The {field} must be {Expected(conversion.Groups["type"].Value)}.")];
        }
        var where = json.LineNumber is { } line ? $" (line {line + 1}, byte {json.BytePositionInLine + 1})" : "";
        return [new RuleViolation(field, "MalformedJson", $"The body is not well-formed JSON{where}; nothing was changed.")];
    }

    /// <summary>
    /// A JSON path (<c>$.settings.users[0]</c>) as the API names fields (<c>settings.users[0]</c>); a property
    /// name the client made up is kept only as far as it is plain.
    /// </summary>
    private static string Field(string? path)
    {
        var field = (path ?? "").TrimStart('$').TrimStart('.');
        if (field.Length == 0)
        {
            return "body";
        }
        var plain = new StringBuilder(Math.Min(field.Length, 200));
        foreach (var c in field.Take(200))
        {
            plain.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '[' or ']' or '_' or '-' ? c : '?');
        }
        return plain.ToString();
    }

    private static bool IsBody(string message) => message.Contains("body", StringComparison.OrdinalIgnoreCase);

    /// <summary>What a value of <paramref name="typeName"/> (as .NET prints it) looks like, in words.</summary>
    private static string Expected(string typeName)
    {
        var type = typeName.Replace("System.Nullable`1[", "", StringComparison.Ordinal).TrimEnd(']', '?');
        if (typeName.Contains("List`1", StringComparison.Ordinal) || typeName.Contains("[]", StringComparison.Ordinal)
            || typeName.Contains("Enumerable`1", StringComparison.Ordinal) || typeName.Contains("Collection`1", StringComparison.Ordinal))
        {
            return "a list";
        }
        if (EnumNamed(type) is { } enumType)
        {
            return $"one of {string.Join(", ", Enum.GetNames(enumType))}";
        }
        return type.Split('.', ' ').Last() switch
        {
            "Guid" => "a GUID such as 0f8fad5b-d9cb-469f-a165-70867728950e",
            "Int16" or "Int32" or "Int64" or "int" or "long" or "short" => "a whole number",
            "Double" or "Single" or "Decimal" or "double" or "float" or "decimal" => "a number",
            "Boolean" or "bool" => "true or false",
            "DateTimeOffset" or "DateTime" => "a date and time such as 2026-12-01T09:00:00Z",
            "TimeSpan" => "a duration such as 04:00:00",
            "String" or "string" => "a string",
            _ => "an object as the API's description shows",
        };
    }

    private static readonly ConcurrentDictionary<string, Type?> Enums = new(StringComparer.Ordinal);

    /// <summary>A Rehome enum by the full name .NET prints (<c>Rehome.Core.Connections.ConnectionRole</c>), or null.</summary>
    private static Type? EnumNamed(string fullName) => Enums.GetOrAdd(fullName, name =>
        name.StartsWith("Rehome.", StringComparison.Ordinal)
            ? AppDomain.CurrentDomain.GetAssemblies()
                .Where(a => a.GetName().Name?.StartsWith("Rehome.", StringComparison.Ordinal) == true)
                .Select(a => a.GetType(name)).FirstOrDefault(t => t is { IsEnum: true })
            : null);

    // "Failed to bind parameter "int? page" from …", "Required parameter "…" was not provided from …",
    // "Implicit body inferred for parameter "input" but no body was provided."
    [GeneratedRegex("""parameter "(?:(?<type>[^"]+) )?(?<name>[A-Za-z0-9_]+)" """, RegexOptions.CultureInvariant)]
    private static partial Regex Parameter();

    [GeneratedRegex("missing required properties including: (?<names>.*?)\\.(?: Path:|$)", RegexOptions.CultureInvariant)]
    private static partial Regex MissingRequired();

    [GeneratedRegex("could not be converted to (?<type>[^ ]+?)\\.(?: Path:|$| )", RegexOptions.CultureInvariant)]
    private static partial Regex Conversion();
}
