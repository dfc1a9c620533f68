using System.Text.Json;
using System.Text.RegularExpressions;

namespace RLWorkbench.Tracking;

/// <summary>
/// System.Text.Json's failures said for a user: the field by its dotted path ("ppo.hiddenSizes"), what it takes in
/// words ("a whole number"), and where in the file, never a .NET type name such as System.Nullable`1[System.Int64].
/// Every reader of a user-supplied JSON file (configurations, profiles, price tables, Q-tables) words errors with it.
/// </summary>
public static partial class JsonProblem
{
    /// <summary>One clause for a failed read, e.g. "'seed' must be a whole number (line 3, column 12)".</summary>
    public static string Describe(JsonException e)
    {
        var (path, inList) = DottedPath(e.Path);
        var where = e.LineNumber is { } line ? $" (line {line + 1}{(e.BytePositionInLine is { } column ? $", column {column + 1}" : "")})" : "";
        var unmapped = UnmappedPattern().Match(e.Message);
        if (unmapped.Success)
        {
            var name = unmapped.Groups["name"].Value;
            return $"unknown field '{(path.EndsWith(name, StringComparison.Ordinal) ? path : Join(path, name))}'{where}";
        }
        var converted = ConvertedPattern().Match(e.Message);
        if (converted.Success && path.Length > 0)
        {
            var allowed = Allowed(converted.Groups["type"].Value);
            return inList ? $"'{path}' must be a list of {Plural(allowed)}{where}" : $"'{path}' must be {allowed}{where}";
        }
        var first = FirstSentence(LocationPattern().Replace(e.Message, "")).TrimEnd('.', ' ');
        return path.Length > 0 ? $"'{path}': {first}{where}" : $"{first}{where}";
    }

    /// <summary>"$.ppo.hiddenSizes[1]" as the dotted path "ppo.hiddenSizes" (and whether it pointed into a list).</summary>
    public static (string Path, bool InList) DottedPath(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath))
            return ("", false);
        var inList = IndexPattern().IsMatch(jsonPath);
        var path = QuotedNamePattern().Replace(jsonPath, m => "." + m.Groups["name"].Value);
        path = IndexPattern().Replace(path, "");
        path = path.TrimStart('$').TrimStart('.');
        return (path, inList);
    }

    /// <summary>What a .NET type name accepts, said for a user.</summary>
    public static string Allowed(string type)
    {
        var inner = NullablePattern().Match(type) is { Success: true } n ? n.Groups["inner"].Value : type;
        if (inner.EndsWith("[]", StringComparison.Ordinal) || inner.Contains("List`", StringComparison.Ordinal) || inner.Contains("IEnumerable`", StringComparison.Ordinal))
            return "a list such as [64, 64]";
        if (inner.Contains("Dictionary`", StringComparison.Ordinal))
            return "an object of named settings";
        return inner switch
        {
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            "System.Int32" or "System.Int64" or "System.Int16" or "System.UInt32" or "System.UInt64" or "System.Byte" => "a whole number",
            "System.Boolean" => "true or false",
            "System.String" => "a string",
            _ when inner.StartsWith("System.", StringComparison.Ordinal) => "a value of another kind",
            _ => "an object of settings",
        };
    }

    public static string Plural(string allowed) => allowed switch
    {
        "a number" => "numbers",
        "a whole number" => "whole numbers",
        "true or false" => "true/false values",
        "a string" => "strings",
        _ => allowed,
    };

    public static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut < 0 ? message : message[..(cut + 1)];
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : $"{prefix}.{name}";

    [GeneratedRegex(@"\[\d+\]")]
    private static partial Regex IndexPattern();

    [GeneratedRegex(@"\['(?<name>[^']*)'\]")]
    private static partial Regex QuotedNamePattern();

    [GeneratedRegex(@"The JSON property '(?<name>[^']*)' could not be mapped")]
    private static partial Regex UnmappedPattern();

    [GeneratedRegex(@"could not be converted to (?<type>\S+?)\.? Path:")]
    private static partial Regex ConvertedPattern();

    [GeneratedRegex(@"^System\.Nullable`1\[(?<inner>.+)\]$")]
    private static partial Regex NullablePattern();

    [GeneratedRegex(@"\s*(Path: \S+ \| )?LineNumber: \d+ \| BytePositionInLine: \d+\.?")]
    private static partial Regex LocationPattern();
}
