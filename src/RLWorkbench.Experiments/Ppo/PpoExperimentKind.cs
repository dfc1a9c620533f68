using System.Text.Json;
using System.Text.Json.Nodes;
using RLWorkbench.Ppo;

namespace RLWorkbench.Experiments.Ppo;

/// <summary>`ppo`: the TorchSharp PPO on the Phase 1 environment (docs/ppo.md). Configuration: <see cref="PpoRunConfig"/>.</summary>
public sealed class PpoExperimentKind : IExperimentKind
{
    public const string KindName = "ppo";

    public string Name => KindName;

    public string SeedPath => "ppo.seed";

    public JsonObject Defaults() => ToJson(new PpoRunConfig());

    public JsonObject Load(string path)
    {
        var configuration = Defaults();
        ConfigurationJson.Overlay(configuration, ConfigurationJson.ReadFile(path, KindName, "experiments/ppo-seed.json"));
        return configuration;
    }

    public IExperiment Create(JsonObject configuration) => new PpoExperiment(Bind(configuration));

    /// <summary>Binds and checks a configuration, including that its device exists here; nothing is written.</summary>
    public static PpoRunConfig Bind(JsonObject configuration)
    {
        var config = ConfigurationJson.Bind<PpoRunConfig>(configuration, PpoRunConfig.Json);
        if (config.Problem() is { } problem)
            throw new ExperimentConfigException(problem);
        config.Environment.Options();
        // Before libtorch loads, so its OpenMP threads wait passively (docs/ppo.md).
        try
        {
            ComputeDevice.Resolve(config.Device);
        }
        catch (DeviceUnavailableException e)
        {
            throw new ExperimentConfigException(e.Message);
        }
        return config;
    }

    public static JsonObject ToJson(PpoRunConfig config) => JsonSerializer.SerializeToNode(config, PpoRunConfig.Json)!.AsObject();
}
