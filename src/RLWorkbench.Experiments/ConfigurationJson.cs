using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments;

/// <summary>
/// How a kind turns JSON into its configuration: experiment files read leniently (comments, trailing
/// commas, though every shipped file is plain JSON), a top-level "description" for the reader set aside,
/// laid over the defaults setting by setting, then bound strictly, every problem one sentence
/// that names the dotted path (the same names --set and sweeps use).
/// </summary>
public static partial class ConfigurationJson
{
    private static readonly JsonDocumentOptions FileOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>The one top-level field of an experiment file that is not a setting: what the file is for, in words.</summary>
    public const string DescriptionField = "description";

    /// <summary>
    /// An experiment file as a JSON object, without its top-level "description"; a missing, unreadable or malformed
    /// file, or a description that is not a string, is one sentence naming it.
    /// </summary>
    /// <param name="example">A file to suggest when it is missing, e.g. experiments/ppo-seed.json.</param>
    public static JsonObject ReadFile(string path, string kind, string example)
    {
        if (!File.Exists(path))
            throw new ExperimentConfigException(InputFile.Missing("config file", path, $"give a JSON file such as {example}"));
        try
        {
            var file = JsonNode.Parse(File.ReadAllText(path), documentOptions: FileOptions) as JsonObject
                ?? throw new ExperimentConfigException($"config file '{path}' is not valid for {kind}: it needs a JSON object.");
            if (ConfigPaths.Match(file, DescriptionField) is { } key)
            {
                if (file[key] is not JsonValue description || description.GetValueKind() != JsonValueKind.String)
                    throw new ExperimentConfigException($"config file '{path}': '{DescriptionField}' must be a string saying what the file is for.");
                file.Remove(key);
            }
            return file;
        }
        catch (JsonException e)
        {
            throw new ExperimentConfigException($"config file '{path}' is not valid JSON: {JsonProblem.FirstSentence(e.Message)}");
        }
        catch (IOException e)
        {
            throw new ExperimentConfigException($"config file '{path}' cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// Lays <paramref name="patch"/> over <paramref name="target"/> in place: groups are merged setting by
    /// setting, anything else replaces what was there. A name the target does not have is an unknown setting
    /// (with the closest valid path); names match case-insensitively and keep the target's spelling.
    /// </summary>
    public static void Overlay(JsonObject target, JsonObject patch)
    {
        var valid = ConfigPaths.Leaves(target);
        void Merge(JsonObject into, JsonObject from, string prefix)
        {
            foreach (var (name, value) in from)
            {
                var path = prefix.Length == 0 ? name : $"{prefix}.{name}";
                var key = ConfigPaths.Match(into, name) ?? throw ConfigPaths.UnknownSetting(path, valid);
                var canonical = prefix.Length == 0 ? key : $"{prefix}.{key}";
                if (into[key] is JsonObject inner && value is JsonObject patchInner)
                    Merge(inner, patchInner, canonical);
                else
                    into[key] = value?.DeepClone();
            }
        }
        Merge(target, patch, "");
    }

    /// <summary>
    /// Binds a whole configuration strictly. A setting nobody knows, or a value of the wrong type, is an
    /// <see cref="ExperimentConfigException"/> naming its dotted path and what is allowed.
    /// </summary>
    public static T Bind<T>(JsonObject configuration, JsonSerializerOptions options)
        where T : new()
    {
        // Suggestions come from every setting the type has, not only those this (perhaps partial) object names.
        var known = JsonSerializer.SerializeToNode(new T(), options)!.AsObject();
        if (NullWhereDefaultIsNot(configuration, known, "") is { } nullProblem)
            throw new ExperimentConfigException(nullProblem);
        if (NonFiniteNumber(configuration, "") is { } numberProblem)
            throw new ExperimentConfigException(numberProblem);
        try
        {
            return configuration.Deserialize<T>(options) ?? throw new ExperimentConfigException("the configuration is empty; it needs a JSON object.");
        }
        catch (JsonException e)
        {
            throw new ExperimentConfigException(Describe(configuration, known, e));
        }
    }

    /// <summary>
    /// A null where the defaults hold a group, a list or a name ("ppo": null) would bind to a missing section
    /// that fails deep inside a run; settings whose default is null (optional ones) may be null.
    /// </summary>
    private static string? NullWhereDefaultIsNot(JsonObject configuration, JsonObject defaults, string prefix)
    {
        foreach (var (name, fallback) in defaults)
        {
            if (fallback is null || ConfigPaths.Match(configuration, name) is not { } key)
                continue;
            var path = Join(prefix, name);
            var given = configuration[key];
            if (given is null)
            {
                return fallback is JsonObject group
                    ? $"'{path}' cannot be null; leave it out for its defaults, or set its settings ({string.Join(", ", group.Take(3).Select(g => Join(path, g.Key)))}{(group.Count > 3 ? ", ..." : "")})."
                    : $"'{path}' cannot be null; leave it out for the default {Example(fallback)}, or give another {(fallback is JsonArray ? "list" : "value")}.";
            }
            if (given is JsonObject inner && fallback is JsonObject innerDefaults && NullWhereDefaultIsNot(inner, innerDefaults, path) is { } problem)
                return problem;
        }
        return null;
    }

    private static string Example(JsonNode value)
    {
        var text = value.ToJsonString();
        return text.Length <= 60 ? text : text[..57] + "...";
    }

    /// <summary>
    /// JSON has no infinity, but a number too large for a double ("1e400") reads as one; no setting can use it,
    /// and it could not be written back to config.json.
    /// </summary>
    private static string? NonFiniteNumber(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, child) in o)
                {
                    if (NonFiniteNumber(child, Join(path, name)) is { } problem)
                        return problem;
                }
                return null;
            case JsonArray a:
                foreach (var item in a)
                {
                    if (NonFiniteNumber(item, path) is { } problem)
                        return problem;
                }
                return null;
            // Parsed from its text: a value set from code holds an int or a long, which TryGetValue<double> refuses.
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number
                && !(double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)):
                return $"'{path}' must be a finite number, got {v.ToJsonString()}.";
            default:
                return null;
        }
    }

    /// <summary>"$.ppo.hiddenSizes[1]" as the dotted path "ppo.hiddenSizes" (and whether it pointed into a list).</summary>
    public static (string Path, bool InList) DottedPath(string? jsonPath) => JsonProblem.DottedPath(jsonPath);

    private static string Describe(JsonObject configuration, JsonObject known, JsonException e)
    {
        var (path, inList) = DottedPath(e.Path);
        var unmapped = UnmappedPattern().Match(e.Message);
        if (unmapped.Success)
        {
            var full = path.EndsWith(unmapped.Groups["name"].Value, StringComparison.Ordinal) ? path : Join(path, unmapped.Groups["name"].Value);
            return ConfigPaths.UnknownSetting(full, ConfigPaths.Leaves(known)).Message;
        }
        var got = Got(configuration, path);
        var converted = ConvertedPattern().Match(e.Message);
        if (path.Length > 0 && converted.Success)
        {
            var allowed = JsonProblem.Allowed(converted.Groups["type"].Value);
            return inList
                ? $"'{path}' must be a list of {JsonProblem.Plural(allowed)}, got {got}."
                : $"'{path}' must be {allowed}, got {got}.";
        }
        return $"the configuration is not valid: {JsonProblem.Describe(e)}.";
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : $"{prefix}.{name}";

    private static string Got(JsonObject configuration, string path)
    {
        try
        {
            return path.Length == 0 ? configuration.ToJsonString() : ConfigPaths.Get(configuration, path)?.ToJsonString() ?? "null";
        }
        catch (ExperimentConfigException)
        {
            return "something else";
        }
    }

    [GeneratedRegex(@"The JSON property '(?<name>[^']*)' could not be mapped")]
    private static partial Regex UnmappedPattern();

    [GeneratedRegex(@"could not be converted to (?<type>\S+?)\.? Path:")]
    private static partial Regex ConvertedPattern();
}
