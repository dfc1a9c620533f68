using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RLWorkbench.Comparison;
using RLWorkbench.Ppo;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Compare;

/// <summary>
/// `compare`: every learner on one routing problem with the same budget of LLM calls (docs/compare.md).
/// Configuration: <see cref="ComparisonOptions"/> as experiments/compare*.json spells it, including where the
/// answers come from (backend, replay, record, budgetUsd).
/// </summary>
/// <param name="environment">Reads OPENAI_API_KEY and friends for the real backend; tests pass their own.</param>
/// <param name="time">The clock of the live pipelines' retries and rate limits.</param>
public sealed class CompareExperimentKind(Func<string, string?>? environment = null, TimeProvider? time = null) : IExperimentKind
{
    public const string KindName = ComparisonReport.Kind;

    public static readonly JsonSerializerOptions Json = new(Run.Json)
    {
        PropertyNameCaseInsensitive = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private readonly Func<string, string?> environment = environment ?? Environment.GetEnvironmentVariable;
    private readonly TimeProvider time = time ?? TimeProvider.System;

    public string Name => KindName;

    public string SeedPath => "firstSeed";

    public JsonObject Defaults() => ToJson(new ComparisonOptions());

    public JsonObject Load(string path)
    {
        var configuration = Defaults();
        ConfigurationJson.Overlay(configuration, ConfigurationJson.ReadFile(path, KindName, "experiments/compare.json"));
        return configuration;
    }

    /// <summary>
    /// Binds the settings and checks everything a run needs before its directory exists: the problem's files, the
    /// PPO device, API keys for the real backend, and that a replay cassette holds enough exchanges.
    /// </summary>
    public IExperiment Create(JsonObject configuration)
    {
        ComparisonOptions options;
        try
        {
            options = ConfigurationJson.Bind<ComparisonOptions>(configuration, Json);
        }
        catch (RoutingInputException e)
        {
            // A weight vector that is not one (unknown objective, negative, all zero) is refused as it is read.
            throw new ExperimentConfigException($"weights: {e.Message}");
        }
        try
        {
            if (options.FirstProblem() is { } problemText)
                throw new ExperimentConfigException(problemText);
            // The run's config.json records the budget it ran with, not "the default".
            options = options with { BudgetCalls = options.Budget };
            var problem = ComparisonRunner.BuildProblem(options.Problem);
            if (ChainLearnerChecks.Problem(options, problem) is { } learnerText)
                throw new ExperimentConfigException(learnerText);
            if (options.Ppo.Device is { } device && !ComputeDevice.IsKnown(device))
                throw new ExperimentConfigException($"Unknown PPO device '{device}'; use one of {string.Join(", ", ComputeDevice.Choices)}.");
            var backend = options.ResolvedBackend;
            var credentials = backend == ComparisonOptions.Backends.Real
                ? ProviderCredentials.FromEnvironment(problem.Chains.SelectMany(c => c.Steps).Select(s => s.Provider).Append(problem.Judge), environment)
                : null;
            IReadOnlyList<CassetteEntry>? cassette = null;
            if (backend == ComparisonOptions.Backends.Replay)
            {
                cassette = Cassette.Read(options.Replay!);
                var needed = CompareExperiment.ExpectedCalls(options);
                if (cassette.Count < needed)
                    throw new ExperimentConfigException($"The cassette {options.Replay} holds {cassette.Count} exchanges; this comparison needs at least {needed:N0} ({options.Learners.Length} learners x {options.Seeds} seeds x {ComparisonRunner.CheckpointGrid(options.Budget, options.CheckpointGrowth)[^1]:N0} calls).");
            }
            return new CompareExperiment(options, problem, credentials, cassette, time, ToJson(options));
        }
        catch (Exception e) when (e is ComparisonInputException or RoutingInputException)
        {
            throw new ExperimentConfigException(e.Message);
        }
    }

    private static JsonObject ToJson(ComparisonOptions options) => JsonSerializer.SerializeToNode(options, Json)!.AsObject();
}
