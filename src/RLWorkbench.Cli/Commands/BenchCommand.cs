using System.CommandLine;
using System.Diagnostics;
using RLWorkbench.Gym;
using RLWorkbench.Gym.Random;
using RLWorkbench.Gym.Vector;
using RLWorkbench.Simulation;

namespace RLWorkbench.Cli.Commands;

/// <summary>`bench`: throughput measurements written down in docs/benchmarks.md (never timed unit tests).</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure throughput on this machine.");
        bench.Subcommands.Add(CreateEnv());
        bench.Subcommands.Add(BenchSweepCommand.Create());
        bench.Subcommands.Add(BenchRateLimitCommand.Create());
        return bench;
    }

    private static Command CreateEnv()
    {
        var seconds = new Option<double>("--seconds") { Description = "Measured time per case, after a warm-up.", DefaultValueFactory = _ => 3.0 }.Between(0.01, 3600);
        var envs = new Option<int>("--envs") { Description = "Environments in the vector-environment cases.", DefaultValueFactory = _ => 4 }.Between(1, 1024);
        var command = new Command("env", "Environment steps per second: one base environment on one core, vector environments, the worker-pool variant.");
        command.Options.Add(seconds);
        command.Options.Add(envs);
        command.SetAction(result =>
        {
            var duration = result.GetValue(seconds);
            var n = result.GetValue(envs);
            var output = result.InvocationConfiguration.Output;
            output.WriteLine($"Environment throughput, {duration:F1} s per case, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
            output.WriteLine($"{"case",-44} {"env steps/s",14} {"bytes/step",11}");
            var baseOptions = new TaskEnvironmentOptions();
            Report(output, "base env, single, one thread", MeasureSingle(baseOptions, duration));
            Report(output, "base env, notebook94 layout, single", MeasureSingle(baseOptions with { Layout = ObservationLayout.Notebook94 }, duration));
            Report(output, $"base env, sync vector x{n}", MeasureVector(baseOptions, n, threaded: false, duration));
            Report(output, $"base env, threaded vector x{n}", MeasureVector(baseOptions, n, threaded: true, duration));
            var pool = baseOptions with { Variant = EnvironmentVariant.Pool };
            Report(output, "pool env, single, tasks inline", MeasureSingle(pool with { RunConcurrently = false }, duration));
            Report(output, "pool env, single, tasks on pool threads", MeasureSingle(pool, duration));
            return CommandLine.Ok;
        });
        return command;
    }

    private static void Report(TextWriter output, string name, (double StepsPerSecond, double BytesPerStep) r) =>
        output.WriteLine($"{name,-44} {r.StepsPerSecond,14:N0} {r.BytesPerStep,11:F2}");

    // A fixed table of random actions so the measurement is the environment, not the action source.
    private static float[][] Actions(int size)
    {
        var random = new SeededRandomSource(42);
        return Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, size).Select(_ => (float)random.Random()).ToArray()).ToArray();
    }

    private static (double, double) MeasureSingle(TaskEnvironmentOptions options, double seconds)
    {
        using var env = new TaskEnvironment(options, seed: 1);
        var obs = new float[env.ObservationSpace.FlatSize];
        var actions = Actions(env.ActionSpace.FlatSize);
        env.Reset(1, obs);
        long Loop(double limit)
        {
            var steps = 0L;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < limit)
            {
                for (var k = 0; k < 1000; k++)
                {
                    if (env.Step(actions[steps & 63], obs).Done)
                        env.Reset(null, obs);
                    steps++;
                }
            }
            return steps;
        }
        Loop(Math.Min(0.5, seconds));
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var steps = Loop(seconds);
        var elapsed = clock.Elapsed.TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        return (steps / elapsed, (double)allocated / steps);
    }

    private static (double, double) MeasureVector(TaskEnvironmentOptions options, int n, bool threaded, double seconds)
    {
        var envs = Enumerable.Range(0, n).Select(i => (IEnv)new TaskEnvironment(options, seed: i)).ToList();
        using IVectorEnv vector = threaded ? new ThreadedVectorEnv(envs) : new SyncVectorEnv(envs);
        var obsSize = vector.SingleObservationSpace.FlatSize;
        var actSize = vector.SingleActionSpace.FlatSize;
        var obs = new float[n * obsSize];
        var rewards = new double[n];
        var terminated = new bool[n];
        var truncated = new bool[n];
        var actions = Actions(n * actSize);
        vector.Reset(1, obs);
        long Loop(double limit)
        {
            var calls = 0L;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < limit)
            {
                for (var k = 0; k < 200; k++)
                {
                    vector.Step(actions[calls & 63], obs, rewards, terminated, truncated);
                    calls++;
                }
            }
            return calls;
        }
        Loop(Math.Min(0.5, seconds));
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var calls = Loop(seconds);
        var elapsed = clock.Elapsed.TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        return (calls * n / elapsed, (double)allocated / (calls * n));
    }
}
