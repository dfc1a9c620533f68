using System.Text.Json;
using System.Text.Json.Nodes;

namespace RLWorkbench.Experiments;

/// <summary>
/// Dotted paths into a configuration's JSON ("ppo.learningRate"), the names experiments/*.json use.
/// Objects are walked into; everything else (numbers, strings, booleans, arrays, null) is a leaf that
/// can be set. Segments match case-insensitively and are rewritten to the configuration's spelling.
/// </summary>
public static class ConfigPaths
{
    /// <summary>Every settable leaf path of a configuration, in document order.</summary>
    public static IReadOnlyList<string> Leaves(JsonObject configuration)
    {
        var leaves = new List<string>();
        void Walk(JsonObject node, string prefix)
        {
            foreach (var (name, child) in node)
            {
                var path = prefix.Length == 0 ? name : $"{prefix}.{name}";
                if (child is JsonObject inner && inner.Count > 0)
                    Walk(inner, path);
                else
                    leaves.Add(path);
            }
        }
        Walk(configuration, "");
        return leaves;
    }

    /// <summary>The value at a path, or throws <see cref="ExperimentConfigException"/> for an unknown path.</summary>
    public static JsonNode? Get(JsonObject configuration, string path)
    {
        var (parent, name) = Locate(configuration, path);
        return parent[name];
    }

    /// <summary>The path spelled as the configuration spells it ("PPO.learningrate" becomes "ppo.learningRate").</summary>
    public static string Canonical(JsonObject configuration, string path)
    {
        var segments = new List<string>();
        JsonObject current = configuration;
        var parts = Split(configuration, path);
        for (var i = 0; i < parts.Length; i++)
        {
            var name = Match(current, parts[i]) ?? throw Unknown(configuration, path);
            segments.Add(name);
            if (i < parts.Length - 1)
                current = current[name] as JsonObject ?? throw Unknown(configuration, path);
        }
        return string.Join('.', segments);
    }

    /// <summary>
    /// Sets one leaf. An unknown path is an <see cref="ExperimentConfigException"/> naming it and the closest
    /// valid path; whether the value suits the setting is checked when the configuration is bound.
    /// </summary>
    public static void Set(JsonObject configuration, string path, JsonNode? value)
    {
        var (parent, name) = Locate(configuration, path);
        if (parent[name] is JsonObject { Count: > 0 })
            throw new ExperimentConfigException($"'{path}' is a group of settings, not one setting; set one of {string.Join(", ", Leaves(configuration).Where(l => l.StartsWith(Canonical(configuration, path) + ".", StringComparison.Ordinal)).Take(6))}.");
        parent[name] = value?.DeepClone();
    }

    /// <summary>Reads a value as the command line gives it: JSON where it parses ("1e-4", "true", "[64,64]", "null"), otherwise a string.</summary>
    public static JsonNode? ParseValue(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    /// <summary>Splits "path=value" as --set takes it.</summary>
    public static (string Path, JsonNode? Value) ParseAssignment(string assignment)
    {
        var cut = assignment.IndexOf('=', StringComparison.Ordinal);
        if (cut <= 0)
            throw new ExperimentConfigException($"--set takes path=value (for example ppo.learningRate=1e-4), got '{assignment}'.");
        return (assignment[..cut].Trim(), ParseValue(assignment[(cut + 1)..].Trim()));
    }

    private static (JsonObject Parent, string Name) Locate(JsonObject configuration, string path)
    {
        var parts = Split(configuration, path);
        var current = configuration;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            var name = Match(current, parts[i]) ?? throw Unknown(configuration, path);
            current = current[name] as JsonObject ?? throw Unknown(configuration, path);
        }
        var last = Match(current, parts[^1]) ?? throw Unknown(configuration, path);
        return (current, last);
    }

    private static string[] Split(JsonObject configuration, string path)
    {
        var parts = path.Split('.');
        if (parts.Length == 0 || parts.Any(p => p.Length == 0))
            throw Unknown(configuration, path);
        return parts;
    }

    /// <summary>The name <paramref name="node"/> spells <paramref name="segment"/> with (names match case-insensitively), or null.</summary>
    internal static string? Match(JsonObject node, string segment)
    {
        foreach (var (name, _) in node)
        {
            if (string.Equals(name, segment, StringComparison.OrdinalIgnoreCase))
                return name;
        }
        return null;
    }

    private static ExperimentConfigException Unknown(JsonObject configuration, string path) => UnknownSetting(path, Leaves(configuration));

    /// <summary>The one sentence for a setting nobody knows, with the closest of <paramref name="valid"/> when there is one.</summary>
    internal static ExperimentConfigException UnknownSetting(string path, IReadOnlyList<string> valid)
    {
        var closest = Closest(path, valid);
        return new ExperimentConfigException(closest is null
            ? $"unknown setting '{path}'."
            : $"unknown setting '{path}'; did you mean '{closest}'?");
    }

    /// <summary>The valid path (or group) nearest to a mistyped one: same last name under another group first, then edit distance.</summary>
    public static string? Closest(string path, IReadOnlyList<string> valid)
    {
        if (valid.Count == 0)
            return null;
        var lower = path.ToLowerInvariant();
        var lastName = lower[(lower.LastIndexOf('.') + 1)..];
        var sameName = valid.FirstOrDefault(v => v[(v.LastIndexOf('.') + 1)..].Equals(lastName, StringComparison.OrdinalIgnoreCase));
        if (sameName is not null)
            return sameName;
        // A misspelt group ("resilence") is compared with the groups at its depth, not with the long leaf paths under them.
        var depth = path.Count(c => c == '.') + 1;
        var groups = valid.Select(v => string.Join('.', v.Split('.').Take(depth)));
        return valid.Concat(groups).Distinct().MinBy(v => EditDistance(lower, v.ToLowerInvariant()));
    }

    /// <summary>Levenshtein distance.</summary>
    public static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
