using System.CommandLine;
using System.Text.Json.Nodes;
using RLWorkbench.Experiments;

namespace RLWorkbench.Cli;

/// <summary>
/// How ppo, qlearn and compare turn their options into an experiment's configuration: the --config file
/// (or the kind's defaults), then the command's own options, then every --set path=value, each by the
/// dotted path the JSON uses.
/// </summary>
public static class ExperimentOptions
{
    public static Option<string[]> Set() => new("--set")
    {
        Description = "Override one setting by its dotted path, the name experiments/*.json uses (repeatable): --set ppo.learningRate=1e-4.",
    };

    /// <summary>Lays the command's options, then the --set assignments, over <paramref name="configuration"/>; an unknown path or a malformed assignment is exit 2.</summary>
    public static JsonObject Apply(JsonObject configuration, IEnumerable<(string Path, JsonNode? Value)> options, IEnumerable<string>? assignments)
    {
        foreach (var (path, value) in options)
            ConfigPaths.Set(configuration, path, value);
        foreach (var assignment in assignments ?? [])
        {
            var (path, value) = ConfigPaths.ParseAssignment(assignment);
            ConfigPaths.Set(configuration, path, value);
        }
        return configuration;
    }

    /// <summary>A command-line option as a setting when it was given.</summary>
    public static IEnumerable<(string Path, JsonNode? Value)> Given<T>(ParseResult result, Option<T> option, string path)
    {
        if (result.GetResult(option) is { Implicit: false } && result.GetValue(option) is { } value)
            yield return (path, JsonValue.Create(value));
    }
}
