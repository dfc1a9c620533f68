namespace RLWorkbench.Tracking.Tests;

/// <summary>Small runs with exactly the columns docs/run-format.md gives each kind.</summary>
internal static class SyntheticRuns
{
    public static readonly string[] PpoMetrics = ["step", "time_s", "ep_rew_mean", "ep_len_mean", "policy_loss", "value_loss", "entropy_loss", "approx_kl", "clip_fraction", "explained_variance", "log_std_mean", "learning_rate", "steps_per_second"];
    public static readonly string[] PpoEval = ["step", "mean_reward", "std_reward", "min_reward", "max_reward", "completion_rate"];
    public static readonly string[] PpoEpisodes = ["step", "env", "return", "length", "tasks_completed", "completion_rate", "mean_agent_load", "mean_collaboration"];
    public static readonly string[] QLearnIterations = ["iteration", "task_id", "task_type", "state", "load_state", "action", "agent", "provider", "relevance", "accuracy", "completeness", "agent_match", "quality", "raw_reward", "penalty", "adjusted_reward", "input_tokens", "output_tokens", "latency_s", "cost_usd", "judge_cost_usd", "epsilon", "util_researcher", "util_analyst", "util_coder", "util_validator", "imbalance", "parse_failure"];
    public static readonly string[] EnvRunEpisodes = ["episode", "return", "length", "tasks_completed", "completion_rate", "mean_agent_load", "mean_collaboration"];

    public static string Ppo(string root, int seed, DateTimeOffset start, double rewardOffset = 0)
    {
        using var run = new RunStore(root) { Mirror = null }.Create("ppo", now: start);
        run.WriteConfig(new { seed, ppo = new { learningRate = 0.0003, nSteps = 128 } });
        var rng = new Random(seed);
        var metrics = run.Table("metrics", PpoMetrics);
        var episodes = run.Table("episodes", PpoEpisodes);
        var eval = run.Table("eval", PpoEval);
        for (var i = 1; i <= 40; i++)
        {
            var step = i * 128;
            var reward = rewardOffset + 10 * (1 - Math.Exp(-i / 10.0)) + rng.NextDouble();
            metrics.AppendRow(step, i * 0.5, reward, 50, -0.01 * rng.NextDouble(), 1.0 / i, -1.4 + i * 0.01, 0.01 + 0.005 * rng.NextDouble(), 0.1 + 0.05 * rng.NextDouble(), Math.Min(0.95, i / 40.0), -0.5, 0.0003, 250 + rng.Next(50));
            for (var env = 0; env < 2; env++)
                episodes.AppendRow(step, env, reward + rng.NextDouble(), 50, 5 + rng.Next(5), 0.5 + 0.01 * i, 0.3 + 0.01 * i, 1 + rng.NextDouble());
            if (i % 5 == 0)
                eval.AppendRow(step, reward, 0.5 + rng.NextDouble(), reward - 1, reward + 1, 0.8);
        }
        run.Finish(RunStatus.Finished);
        return run.Directory;
    }

    /// <summary>
    /// A PPO run on a Phase 1 environment (config environment.variant/layout/agents) whose returns climb
    /// an S-curve from about 380 to about 1450 over 500k steps, the shape of SB3's reference curve.
    /// </summary>
    public static string Phase1Ppo(string root, int seed, DateTimeOffset start, string variant = "base", string layout = "seed67")
    {
        using var run = new RunStore(root) { Mirror = null }.Create("ppo", now: start);
        run.WriteConfig(new { seed, environment = new { variant, layout, agents = 4 }, ppo = new { learningRate = 0.0003, nSteps = 2048 } });
        var rng = new Random(seed);
        var metrics = run.Table("metrics", PpoMetrics);
        var eval = run.Table("eval", PpoEval);
        for (var i = 1; i <= 60; i++)
        {
            var step = i * 8192;
            var reward = 380 + 1070 / (1 + Math.Exp(-(step - 200_000) / 50_000.0)) + 20 * rng.NextDouble();
            metrics.AppendRow(step, i * 3.0, reward, 200, -0.01, 100.0 / i, -17 + i * 0.01, 0.01, 0.1, 0.9, -0.5, 0.0003, 2700);
            if (i % 3 == 0)
                eval.AppendRow(step, reward + 30, 40 + 10 * rng.NextDouble(), reward - 50, reward + 80, 0.99);
        }
        run.Finish(RunStatus.Finished);
        return run.Directory;
    }

    /// <summary>
    /// A short seed-configuration PPO run as a newcomer sees one: training return creeping from 350 to 480 while the
    /// deterministic evaluation climbs from -650 to -60, 8,192 steps per update, with summary.json's final evaluation.
    /// Evaluations land on the given steps (update ends by default).
    /// </summary>
    public static string EarlyPhase1Ppo(string root, DateTimeOffset start, IReadOnlyList<long>? evaluationSteps = null)
    {
        using var run = new RunStore(root) { Mirror = null }.Create("ppo", now: start);
        run.WriteConfig(new { seed = 0, environment = new { variant = "base", layout = "seed67", agents = 4 }, ppo = new { learningRate = 0.0003, nSteps = 2048 } });
        var metrics = run.Table("metrics", PpoMetrics);
        var eval = run.Table("eval", PpoEval);
        const int updates = 12;
        for (var i = 1; i <= updates; i++)
            metrics.AppendRow(i * 8192, i * 3.0, 350 + 130.0 * (i - 1) / (updates - 1), 200, -0.01, 100.0 / i, -17, 0.01, 0.1, 0.9, -0.5, 0.0003, 2700);
        var steps = evaluationSteps ?? [.. Enumerable.Range(1, updates).Select(i => i * 8192L)];
        for (var k = 0; k < steps.Count; k++)
        {
            var mean = -650 + 590.0 * k / Math.Max(1, steps.Count - 1);
            eval.AppendRow(steps[k], mean, 40, mean - 60, mean + 60, 0.3);
        }
        run.WriteJson("summary.json", new { totalSteps = updates * 8192L, finalEvaluation = new { episodes = 100, mean = -40.0, std = 35.0 } });
        run.Finish(RunStatus.Finished);
        return run.Directory;
    }

    public static string QLearn(string root, DateTimeOffset start, bool withQTable = true)
    {
        using var run = new RunStore(root) { Mirror = null }.Create("qlearn", now: start);
        run.WriteConfig(new { seed = 1, alpha = 0.1, gamma = 0.9 });
        var rng = new Random(5);
        string[] types = ["code", "math", "research"];
        string[] agents = ["researcher", "analyst", "coder", "validator"];
        string[] loads = ["low-low", "low-high", "high-low"];
        var table = run.Table("iterations", QLearnIterations);
        for (var i = 0; i < 120; i++)
        {
            var type = types[i % 3];
            var load = loads[(i / 7) % 3];
            var action = rng.Next(4);
            var raw = 0.5 + 0.3 * rng.NextDouble();
            var penalty = 0.1 * rng.NextDouble();
            table.AppendRow(
                i, $"t{i}", type, $"{type}|{load}", load, action, agents[action], action % 2 == 0 ? "openai" : "anthropic",
                rng.Next(1, 11), rng.Next(1, 11), rng.Next(1, 11), rng.Next(1, 11), raw, raw, penalty, raw - penalty,
                100, 200, 1.5, 0.001, 0.0005, Math.Max(0.05, 1 - i / 100.0),
                rng.NextDouble(), rng.NextDouble(), rng.NextDouble(), rng.NextDouble(), rng.NextDouble(), i % 17 == 0);
        }
        if (withQTable)
        {
            var states = types.SelectMany(t => loads.Select(l => $"{t}|{l}")).ToArray();
            var values = states.Select((_, s) => agents.Select((_, a) => Math.Round(Math.Sin(s + a), 3)).ToArray()).ToArray();
            File.WriteAllText(run.ArtifactPath("qtable.json"), System.Text.Json.JsonSerializer.Serialize(new { states, actions = agents, values }));
        }
        run.Finish(RunStatus.Finished);
        return run.Directory;
    }

    public static string EnvRun(string root, DateTimeOffset start)
    {
        using var run = new RunStore(root) { Mirror = null }.Create("env-run", now: start);
        var table = run.Table("episodes", EnvRunEpisodes);
        for (var e = 0; e < 30; e++)
            table.AppendRow(e, e * 0.3, 50, 4 + e % 3, 0.6, 0.4, 1.2);
        run.Finish(RunStatus.Finished);
        return run.Directory;
    }
}

/// <summary>
/// A compare run's tables as the comparison writes them: every learner compare knows, two seeds. Random, round-robin
/// and least-recently-used have the same curve, as they do on the base problem.
/// </summary>
internal static class SyntheticCompareRun
{
    public static readonly string[] Learners = ["qlearn", "ppo-seed", "ppo-small", "ppo-seed-settings", "ucb1", "thompson", "random", "round-robin", "lru", "oracle"];

    public static string Write(string root, DateTimeOffset start, bool withMedians = true)
    {
        using var run = new RunStore(root) { Mirror = null }.Create("compare", now: start);
        run.WriteConfig(new { problem = new { kind = "base" }, seeds = 2, budgetCalls = 1000 });
        var curves = run.Table("curve_summary", ["learner", "calls", "mean", "lower95", "upper95", "seeds"]);
        foreach (var calls in new[] { 0, 2, 10, 100, 1000 })
        {
            foreach (var learner in Learners)
            {
                var mean = learner switch
                {
                    "random" or "round-robin" or "lru" => 0.533,
                    "oracle" => 0.78,
                    "qlearn" => calls >= 1000 ? 0.76 : 0.55,
                    _ => calls >= 100 ? 0.78 : 0.6 + 0.01 * Array.IndexOf(Learners, learner),
                };
                curves.AppendRow(learner, calls, mean, mean - 0.01, mean + 0.01, 2);
            }
        }
        string[] columns = ["learner", "seeds", "description", .. withMedians
            ? new[] { "budget_calls", "settled_seeds", "settled_median_calls", "settled_median_lower95", "settled_median_upper95", "first_crossing_median_calls" }
            : []];
        var summary = run.Table("summary", columns);
        foreach (var learner in Learners)
        {
            if (!withMedians)
            {
                summary.AppendRow(learner, 2, learner);
                continue;
            }
            // Baselines never settle (medians beyond the budget: empty cells); qlearn settles late, the rest early.
            object[] medians = learner switch
            {
                "random" or "round-robin" or "lru" => [0, "", "", "", ""],
                "oracle" => [2, 0, 0, 0, 0],
                "qlearn" => [2, 1000, 1000, "", 1000],
                _ => [2, 100, 80, 120, 60],
            };
            summary.AppendRow([learner, 2, learner, 1000, .. medians]);
        }
        run.WriteJson("oracle.json", new { oracleValue = 0.78, threshold = 0.741, thresholdFraction = 0.95 });
        run.Finish(RunStatus.Finished);
        return run.Directory;
    }
}

/// <summary>Checks that a file is a PNG of a given size with a picture in it.</summary>
internal static class Png
{
    public static (int Width, int Height) AssertValid(string path, int minWidth = 400, int minHeight = 300)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 8 && bytes.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), $"{path} is not a PNG");
        Assert.Equal("IHDR"u8.ToArray(), bytes[12..16]);
        var width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4));
        var height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4));
        Assert.InRange(width, minWidth, 5000);
        Assert.InRange(height, minHeight, 5000);

        using var bitmap = SkiaSharp.SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        var colours = new HashSet<uint>();
        var nonWhite = 0;
        for (var y = 0; y < bitmap.Height; y += 3)
        {
            for (var x = 0; x < bitmap.Width; x += 3)
            {
                var c = bitmap.GetPixel(x, y);
                colours.Add((uint)c);
                if (c.Red < 240 || c.Green < 240 || c.Blue < 240)
                    nonWhite++;
            }
        }
        // A blank or axes-only image has a handful of colours and almost no ink.
        Assert.True(colours.Count > 20, $"{Path.GetFileName(path)} has only {colours.Count} colours");
        Assert.True(nonWhite > bitmap.Width * bitmap.Height / 9 / 100, $"{Path.GetFileName(path)} is nearly blank");
        return (width, height);
    }

    /// <summary>
    /// The most pixels of a colour in any one row: a horizontal line across the plot gives hundreds, text
    /// and curves that merely pass through a row a few dozen.
    /// </summary>
    public static int MostInOneRow(string path, string hex)
    {
        var target = SkiaSharp.SKColor.Parse(hex);
        using var bitmap = SkiaSharp.SKBitmap.Decode(path);
        var most = 0;
        for (var y = 0; y < bitmap.Height; y++)
        {
            var count = 0;
            for (var x = 0; x < bitmap.Width; x++)
            {
                if (Near(bitmap.GetPixel(x, y), target))
                    count++;
            }
            most = Math.Max(most, count);
        }
        return most;
    }

    /// <summary>
    /// Rows between <paramref name="fromRow"/> (inclusive) and <paramref name="toRow"/> (exclusive) holding any pixel of a
    /// colour: how much of a panel's height a curve spans (a flat curve a few dozen, one that fills its axis hundreds).
    /// </summary>
    public static int RowsWith(string path, string hex, int fromRow, int toRow)
    {
        var target = SkiaSharp.SKColor.Parse(hex);
        using var bitmap = SkiaSharp.SKBitmap.Decode(path);
        var rows = 0;
        for (var y = fromRow; y < Math.Min(toRow, bitmap.Height); y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                if (Near(bitmap.GetPixel(x, y), target))
                {
                    rows++;
                    break;
                }
            }
        }
        return rows;
    }

    /// <summary>Within a summed channel distance of 30: anti-aliased edges of a line still count as its colour.</summary>
    private static bool Near(SkiaSharp.SKColor c, SkiaSharp.SKColor target) =>
        Math.Abs(c.Red - target.Red) + Math.Abs(c.Green - target.Green) + Math.Abs(c.Blue - target.Blue) < 30;

    /// <summary>Pixels within a small distance of a colour, in rows <paramref name="fromRow"/> to <paramref name="toRow"/> (exclusive): whether the data series drawn in it are really there.</summary>
    public static int CountColour(string path, string hex, int fromRow = 0, int toRow = int.MaxValue)
    {
        var target = SkiaSharp.SKColor.Parse(hex);
        using var bitmap = SkiaSharp.SKBitmap.Decode(path);
        var count = 0;
        for (var y = fromRow; y < Math.Min(toRow, bitmap.Height); y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                if (Near(bitmap.GetPixel(x, y), target))
                    count++;
            }
        }
        return count;
    }
}
