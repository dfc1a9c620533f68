using System.CommandLine;
using System.Globalization;
using RLWorkbench.Gym.Evaluation;
using RLWorkbench.Gym.Random;
using RLWorkbench.Gym.Wrappers;
using RLWorkbench.Simulation;
using RLWorkbench.Simulation.Conformance;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Commands;

/// <summary>`env`: the Phase 1 environment on its own - golden-trace replay and fixed policies.</summary>
public static class EnvCommand
{
    public static Command Create()
    {
        var env = new Command("env", "The Phase 1 simulated task environment: replay golden traces, run fixed policies.");
        env.Subcommands.Add(CreateReplay());
        env.Subcommands.Add(CreateRun());
        return env;
    }

    private static Command CreateReplay()
    {
        var file = new Argument<string>("file") { Description = "A golden-trace file (format rlworkbench-golden-trace/1)." };
        var command = new Command("replay", "Replay every trace in a golden-trace file; stops at the first mismatch with its step, field and both values.");
        command.Arguments.Add(file);
        command.SetAction(result =>
        {
            var path = result.GetValue(file)!;
            IReadOnlyList<GoldenTrace> traces;
            try
            {
                traces = GoldenTraceFile.Load(path);
            }
            catch (TraceFormatException e)
            {
                throw new UsageException(e.Message);
            }
            var output = result.InvocationConfiguration.Output;
            for (var i = 0; i < traces.Count; i++)
            {
                var replay = TraceReplayer.Replay(traces[i]);
                if (!replay.Passed)
                {
                    output.WriteLine($"trace {i + 1} {traces[i].Describe()}: MISMATCH at {replay.Mismatch}");
                    result.InvocationConfiguration.Error.WriteLine($"error: trace {i + 1} does not replay ({replay.Mismatch}).");
                    return CommandLine.Failure;
                }
                output.WriteLine($"trace {i + 1} {traces[i].Describe()}: ok");
            }
            output.WriteLine($"All {traces.Count} traces replay exactly.");
            return CommandLine.Ok;
        });
        return command;
    }

    private static Command CreateRun()
    {
        var environment = new EnvironmentArguments();
        var policy = new Option<string>("--policy")
        {
            Description = "Fixed policy: random (uniform in [0, 1]), ones (every value 1: assign all, always collaborate), constant (the --action vector), "
                + "greedy (always collaborate; queued tasks to the agents whose visible expertise suits their type best; seed67 only) "
                + "or greedy-full (the same given the expertise values the observation hides).",
            DefaultValueFactory = _ => "random",
        };
        var action = new Option<string?>("--action")
        {
            Description = "For --policy constant: one value for every component, or 3 x agents comma-separated values.",
        };
        var episodes = new Option<int>("--episodes") { Description = "Episodes to play.", DefaultValueFactory = _ => 5 }.Between(1, 100_000);
        var seed = new Option<int>("--seed") { Description = "Seed of the environment (episode k uses seed + k) and of the random policy.", DefaultValueFactory = _ => 0 }.Between(0, int.MaxValue);
        var output = new Option<string?>("--out") { Description = "Run directory (default: a new one under artifacts/runs)." };
        var command = new Command("run", "Run a fixed policy for N episodes and print the mean and spread of the return.");
        environment.AddTo(command);
        command.Options.Add(policy);
        command.Options.Add(action);
        command.Options.Add(episodes);
        command.Options.Add(seed);
        command.Options.Add(output);
        command.SetAction(result =>
        {
            var options = environment.Resolve(result);
            var count = result.GetValue(episodes);
            var seedValue = result.GetValue(seed);
            CheckEpisodeSeeds(seedValue, count);
            using var env = new TaskEnvironment(options, seedValue);
            var (name, chosen) = ChoosePolicy(result.GetValue(policy)!, result.GetValue(action), env, seedValue);

            using var run = result.GetValue(output) is { } dir
                ? RunStore.CreateAt(dir, "env-run")
                : new RunStore(RunStore.DefaultRoot).Create("env-run");
            run.WriteConfig(new { Environment = options, Policy = name, Episodes = count, Seed = seedValue });
            var table = run.Table("episodes", ["episode", "return", "length", "tasks_completed", "completion_rate", "mean_agent_load", "mean_collaboration"]);
            var writer = result.InvocationConfiguration.Output;
            writer.WriteLine($"Running policy '{name}' on {TaskEnvironmentOptions.Name(options.Variant)}/{TaskEnvironmentOptions.Name(options.Layout)} with {options.Agents} agents for {count} episodes (seed {seedValue}).");

            // Ctrl+C or SIGTERM ends the run after the episode under way, with a status that says so; a second one
            // (or SIGKILL) ends the process at once and leaves a run that `runs list` shows as stale.
            using var stop = new StopSignal(result.InvocationConfiguration.Error, "Stopping after this episode (Ctrl+C again to quit at once)...");
            var done = 0;
            List<EpisodeRecord> records;
            try
            {
                records = PolicyRunner.Run(env, chosen, count, seedValue, (k, e) =>
                {
                    table.AppendRow(k + 1, e.Return, e.Length, e.FinalInfo["episode_tasks_completed"], e.FinalInfo["completion_rate"], e.FinalInfo["mean_agent_load"], e.FinalInfo["mean_collaboration"]);
                    writer.WriteLine($"  episode {k + 1,3}: return {e.Return,9:F2}  tasks completed {e.FinalInfo["episode_tasks_completed"],4}");
                    done = k + 1;
                    stop.Token.ThrowIfCancellationRequested();
                });
            }
            catch (OperationCanceledException) when (stop.Token.IsCancellationRequested)
            {
                var message = $"stopped by a signal after {done} of {count} episodes (in episodes.csv); no summary was written";
                run.Finish(RunStatus.Killed, message);
                result.InvocationConfiguration.Error.WriteLine($"Stopped after {done} of {count} episodes; they are in {run.Directory}.");
                return CommandLine.Failure;
            }
            catch (IOException e)
            {
                // A full disk: the rows written are whole (MetricsTable cuts a failed one back); say where it stopped.
                run.Finish(RunStatus.Failed, $"writing the run failed after {done} of {count} episodes: {e.Message}");
                result.InvocationConfiguration.Error.WriteLine($"error: writing the run failed after {done} of {count} episodes: {e.Message}");
                return CommandLine.Failure;
            }
            var returns = Summary.Of(records.Select(r => r.Return).ToList());
            var completion = records.Average(r => r.FinalInfo["completion_rate"]);
            writer.WriteLine($"Return over {count} episodes: mean {returns.Mean:F2}, std {returns.Std:F2}, min {returns.Min:F2}, max {returns.Max:F2}; mean completion rate {completion:P1}.");
            writer.WriteLine($"Run saved in {run.Directory}");
            run.WriteJson("summary.json", new { returns.Mean, returns.Std, returns.Min, returns.Max, CompletionRate = completion });
            run.Finish(RunStatus.Finished);
            return CommandLine.Ok;
        });
        return command;
    }

    private const string Policies = "random, ones, constant, greedy, greedy-full";

    /// <summary>Episode k starts from seed + k, an int: the last episode's seed must still be one.</summary>
    internal static void CheckEpisodeSeeds(int seed, int episodes)
    {
        if ((long)seed + episodes - 1 > int.MaxValue)
            throw new UsageException($"--seed {seed} with --episodes {episodes} would give the last episode seed {(long)seed + episodes - 1}; --seed + --episodes - 1 must be at most {int.MaxValue:N0}.");
    }

    private static (string Name, Policy Policy) ChoosePolicy(string name, string? action, TaskEnvironment env, int seed)
    {
        var actionSize = env.ActionSpace.FlatSize;
        switch (name.Trim().ToLowerInvariant())
        {
            case "random":
                var random = new SeededRandomSource(seed ^ 0x5EED);
                return ("random", (_, a) =>
                {
                    for (var i = 0; i < a.Length; i++)
                        a[i] = (float)random.Random();
                });
            case "ones":
                return ("ones", (_, a) => a.Fill(1f));
            case "constant":
                var vector = ParseVector(action, actionSize);
                return ($"constant [{string.Join(", ", vector.Select(v => v.ToString(CultureInfo.InvariantCulture)))}]", (_, a) => vector.CopyTo(a));
            case "greedy":
                return ("greedy", Greedy(env, "greedy", hiddenExpertise: false).Act);
            case "greedy-full":
                return ("greedy-full", Greedy(env, "greedy-full", hiddenExpertise: true).Act);
            default:
                throw new UsageException($"unknown policy '{name}'; allowed: {Policies}.");
        }
    }

    /// <summary>The expertise-matching heuristic; greedy-full also reads the expertise the observation hides.</summary>
    private static GreedyAssignmentPolicy Greedy(TaskEnvironment env, string name, bool hiddenExpertise)
    {
        if (env.Options.Layout != ObservationLayout.Seed67)
            throw new UsageException($"--policy {name} reads each queued task's type from the observation, which only the seed67 layout shows; use --layout seed67.");
        var agents = env.Agents;
        return new GreedyAssignmentPolicy(agents.Count, hiddenExpertise ? (i, type) => agents[i].Expertise[(int)type] : null);
    }

    private static float[] ParseVector(string? text, int size)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new UsageException($"--policy constant needs --action with one value or {size} comma-separated values.");
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                throw new UsageException($"--action value '{parts[i]}' is not a finite number.");
        }
        if (values.Length == 1)
            return Enumerable.Repeat(values[0], size).ToArray();
        if (values.Length != size)
            throw new UsageException($"--action has {values.Length} values; this environment takes 1 (for all) or {size} (3 per agent).");
        return values;
    }
}
