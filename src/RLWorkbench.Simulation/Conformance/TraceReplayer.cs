using RLWorkbench.Gym.Random;

namespace RLWorkbench.Simulation.Conformance;

/// <summary>Where a replay first disagreed with its trace. Step 0 is the reset.</summary>
public sealed record TraceMismatch(int Step, string Field, string Expected, string Actual)
{
    public override string ToString() =>
        $"{(Step == 0 ? "reset" : $"step {Step}")}: {Field} expected {Expected}, got {Actual}";
}

public sealed record TraceReplayResult(GoldenTrace Trace, TraceMismatch? Mismatch)
{
    public bool Passed => Mismatch is null;
}

/// <summary>
/// Replays a golden trace through <see cref="TaskEnvironment"/> with a random source that serves the
/// recorded draws and fails on the first call of another kind or with other arguments, then compares
/// observations (1e-5 relative or 1e-6 absolute), rewards (1e-9 absolute), flags and info counts.
/// </summary>
public static class TraceReplayer
{
    public const double ObservationRelativeTolerance = 1e-5;
    public const double ObservationAbsoluteTolerance = 1e-6;
    public const double RewardTolerance = 1e-9;

    private static readonly string[] ComparedInfo = ["completed_tasks", "queue_length", "active_tasks"];

    public static TraceReplayResult Replay(GoldenTrace trace)
    {
        var random = new ReplayRandomSource();
        // Tasks run inline: the replay checks numbers, which do not depend on threads.
        var options = new TaskEnvironmentOptions
        {
            Variant = trace.Variant,
            Layout = trace.Layout,
            Agents = trace.Agents,
            RunConcurrently = false,
        };
        using var env = new TaskEnvironment(options, random);
        var obs = new float[trace.ObservationSize];

        random.Enqueue(trace.ResetDraws);
        if (Run(0, () => env.Reset(null, obs), random) is { } resetDraws)
            return new(trace, resetDraws);
        if (CompareObservation(0, trace.ResetObservation, obs) is { } resetObs)
            return new(trace, resetObs);

        for (var k = 0; k < trace.Steps.Count; k++)
        {
            var step = trace.Steps[k];
            var number = k + 1;
            random.Enqueue(step.Draws);
            Gym.StepResult result = default;
            if (Run(number, () => result = env.Step(step.Action, obs), random) is { } drawMismatch)
                return new(trace, drawMismatch);
            if (CompareObservation(number, step.Observation, obs) is { } obsMismatch)
                return new(trace, obsMismatch);
            if (Math.Abs(result.Reward - step.Reward) > RewardTolerance)
                return new(trace, new(number, "reward", GoldenTraceFile.Show(step.Reward), GoldenTraceFile.Show(result.Reward)));
            if (result.Terminated != step.Terminated)
                return new(trace, new(number, "terminated", Flag(step.Terminated), Flag(result.Terminated)));
            if (result.Truncated != step.Truncated)
                return new(trace, new(number, "truncated", Flag(step.Truncated), Flag(result.Truncated)));
            foreach (var key in ComparedInfo)
            {
                if (step.Info.TryGetValue(key, out var expected) && env.Info[key] != expected)
                    return new(trace, new(number, $"info.{key}", GoldenTraceFile.Show(expected), GoldenTraceFile.Show(env.Info[key])));
            }
        }
        return new(trace, null);
    }

    private static TraceMismatch? Run(int step, Action action, ReplayRandomSource random)
    {
        try
        {
            action();
            random.ExpectExhausted("draws");
            return null;
        }
        catch (RandomReplayException e)
        {
            return new TraceMismatch(step, "draws", "the recorded draws", e.Message);
        }
    }

    private static TraceMismatch? CompareObservation(int step, float[] expected, float[] actual)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            var e = (double)expected[i];
            var a = (double)actual[i];
            if (!(Math.Abs(a - e) <= Math.Max(ObservationAbsoluteTolerance, ObservationRelativeTolerance * Math.Abs(e))))
                return new TraceMismatch(step, $"obs[{i}]", GoldenTraceFile.Show(expected[i]), GoldenTraceFile.Show(actual[i]));
        }
        return null;
    }

    private static string Flag(bool value) => value ? "true" : "false";
}
