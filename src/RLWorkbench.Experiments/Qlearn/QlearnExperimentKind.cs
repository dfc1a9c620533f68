using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Qlearn;

/// <summary>
/// `qlearn`: Phase 2 routing (docs/routing.md). Configuration: <see cref="QlearnOptions"/> as experiments/qlearn.json
/// spells it. Two settings depend on the coordinator: <c>iterations</c> (null: 30 base, 50 load-balanced) and each
/// <c>qLearning.*</c> value (null: that coordinator's default), so --set qLearning.epsilonDecay=0.9 keeps the others.
/// </summary>
public sealed class QlearnExperimentKind(QlearnHost? host = null) : IExperimentKind
{
    public const string KindName = QlearnSession.Kind;

    public static readonly JsonSerializerOptions Json = new(Run.Json)
    {
        PropertyNameCaseInsensitive = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Where API keys, the clock and retry jitter come from (the process's by default; tests pass their own).</summary>
    public QlearnHost Host { get; } = host ?? new QlearnHost();

    public string Name => KindName;

    public string SeedPath => "seed";

    public JsonObject Defaults()
    {
        var defaults = ToJson(new QlearnOptions());
        var unset = new JsonObject();
        foreach (var (name, _) in ToJson(new QLearningOptions()))
            unset[name] = null;
        defaults["qLearning"] = unset;
        return defaults;
    }

    public JsonObject Load(string path)
    {
        var configuration = Defaults();
        ConfigurationJson.Overlay(configuration, ConfigurationJson.ReadFile(path, KindName, "experiments/qlearn.json"));
        return configuration;
    }

    public IExperiment Create(JsonObject configuration)
    {
        var options = Resolve(configuration);
        try
        {
            var inputs = QlearnSession.Prepare(options, Host.Environment);
            QlearnSession.CheckCanRun(options, inputs, 0);
            return new QlearnExperiment(options, inputs, Host, ToJson(options));
        }
        catch (RoutingInputException e)
        {
            throw new ExperimentConfigException(e.Message);
        }
    }

    /// <summary>Binds a configuration and fills what depends on the coordinator; a bad value is one sentence naming it.</summary>
    public static QlearnOptions Resolve(JsonObject configuration)
    {
        var filled = configuration.DeepClone().AsObject();
        FillCoordinatorDefaults(filled);
        try
        {
            // Bound inside the try: the weights' converter refuses bad weights with a RoutingInputException of its own.
            return ConfigurationJson.Bind<QlearnOptions>(filled, Json).Resolve();
        }
        catch (RoutingInputException e)
        {
            throw new ExperimentConfigException(e.Message);
        }
    }

    /// <summary>Unset qLearning values take the defaults of the configured coordinator (epsilon decay 0.97 base, 0.98 load-balanced).</summary>
    private static void FillCoordinatorDefaults(JsonObject configuration)
    {
        var learner = Find(configuration, "learner").Value is JsonValue v && v.TryGetValue<string>(out var name) ? name : TaskTypeCoordinator.Name;
        var defaults = ToJson(learner == LoadBalancedCoordinator.Name ? QLearningOptions.LoadBalancedDefaults : new QLearningOptions());
        var (key, value) = Find(configuration, "qLearning");
        if (value is not JsonObject given)
        {
            configuration[key ?? "qLearning"] = defaults;
            return;
        }
        foreach (var (setting, fallback) in defaults)
        {
            var (present, current) = Find(given, setting);
            if (current is null)
                given[present ?? setting] = fallback?.DeepClone();
        }
    }

    private static (string? Key, JsonNode? Value) Find(JsonObject node, string name) =>
        ConfigPaths.Match(node, name) is { } key ? (key, node[key]) : (null, null);

    private static JsonObject ToJson<T>(T value) => JsonSerializer.SerializeToNode(value, Json)!.AsObject();
}
