using System.Text.Json;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;

namespace RLWorkbench.Routing.Tests;

/// <summary>Issue 14 item 2 wired: the reward vector on every routed task, weights the learner learns, re-scoring from the record.</summary>
public class RewardWeightsRunTests
{
    private static readonly RoutingTask Coding = new("c1", "Write a cache.", TaskType.Coding, 0.5, 0.5);

    private static readonly RewardWeights Weights = RewardWeights.Parse("quality=1,cost=20,latency=0.05,fairness=0.1");

    private static async Task<QlearnResult> Run(QlearnOptions options, string outDir) =>
        await QlearnSession.RunAsync(new QlearnRequest { Options = options, OutDirectory = outDir, RunsRoot = outDir + "-root" }, new CollectingProgress(), CancellationToken.None);

    [Fact]
    public void With_weights_the_coordinator_learns_their_scalarisation_with_the_fairness_it_measured_before_recording()
    {
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(("random", 0.0), ("choice", 0)));
        // Window: researcher x3 of 7; the base coordinator does not subtract the penalty, but the fairness is measured all the same.
        foreach (var a in new[] { AgentRole.Researcher, AgentRole.Researcher, AgentRole.Researcher, AgentRole.Analyst, AgentRole.Coder, AgentRole.Validator, AgentRole.Analyst })
            c.Load.Record(a);
        var d = c.Decide(Coding);
        Assert.Equal(AgentRole.Researcher, d.Action.Agent);

        var u = c.Complete(d, 0.77, new RewardVector(0.8, 0.002, 3.0, 0), TaskType.Research, Weights);

        var fairness = (3.0 / 7 / 0.25 - 1) * 0.15;
        Assert.Equal(fairness, u.Vector!.Fairness, 15);
        Assert.Equal(0.8 - 20 * 0.002 - 0.05 * 3.0, u.RawReward, 15);
        Assert.Equal(0.1 * fairness, u.Penalty, 15);
        Assert.Equal(Weights.Scalarise(new RewardVector(0.8, 0.002, 3.0, fairness)), u.AdjustedReward);
        Assert.Equal(u.RawReward - u.Penalty, u.AdjustedReward, 15);
        Assert.Equal(0.15 * u.AdjustedReward, Q(c)[d.StateIndex, 0], 15);
    }

    [Fact]
    public void Without_weights_the_seed_reward_is_learned_and_the_fairness_only_recorded()
    {
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(("random", 0.0), ("choice", 0)));
        foreach (var a in new[] { AgentRole.Researcher, AgentRole.Researcher, AgentRole.Researcher, AgentRole.Analyst })
            c.Load.Record(a);
        var d = c.Decide(Coding);

        var u = c.Complete(d, 0.77, new RewardVector(0.8, 0.002, 3.0, 0), TaskType.Research, null);

        Assert.Equal(0.77, u.RawReward);
        Assert.Equal(0.0, u.Penalty);
        Assert.Equal(0.77, u.AdjustedReward);
        Assert.Equal(0.2, u.Vector!.Fairness); // (0.75 / 0.25 - 1) x 0.15 = 0.3, capped
        Assert.Equal(0.15 * 0.77, Q(c)[d.StateIndex, 0], 15);
    }

    [Fact]
    public async Task A_run_records_each_tasks_vector_and_a_load_balanced_runs_fairness_is_its_penalty()
    {
        using var tmp = new TempDir();
        await Run(new QlearnOptions { Learner = LoadBalancedCoordinator.Name }, tmp["lb"]);
        var rows = IterationRow.ReadCsv(tmp["lb/iterations.csv"]).ToArray();

        Assert.Equal(50, rows.Length);
        Assert.All(rows, r => Assert.Equal(r.Penalty, r.Fairness));
        Assert.Contains(rows, r => r.Fairness > 0);
        Assert.All(rows, r => Assert.Equal(new RewardVector(r.Quality, r.CostUsd, r.LatencySeconds, r.Fairness!.Value), r.Vector));
    }

    [Fact]
    public async Task A_weighted_run_learns_the_scalarised_vector_and_rescoring_it_under_its_own_weights_gives_its_mean()
    {
        using var tmp = new TempDir();
        var result = await Run(new QlearnOptions { Weights = Weights, Iterations = 40 }, tmp["w"]);
        Assert.Equal(StopReason.Completed, result.Outcome.Reason);
        var rows = IterationRow.ReadCsv(tmp["w/iterations.csv"]).ToArray();

        Assert.Equal(40, rows.Length);
        Assert.All(rows, r => Assert.Equal(Weights.Scalarise(r.Vector!), r.AdjustedReward));
        Assert.All(rows, r => Assert.Equal(0.1 * r.Fairness!.Value, r.Penalty));
        // Cost at 20 per USD and latency at 0.05 per second: what the seed's reward would have been is not what was learned.
        Assert.Contains(rows, r => Math.Abs(r.AdjustedReward - new CompositeReward(new RewardOptions()).Compute(
            new JudgeVerdict(r.Relevance, r.Accuracy, r.Completeness, r.AgentMatch, "", r.ParseFailure), r.CostUsd, r.LatencySeconds)) > 0.01);

        var same = RunRescoring.Read(tmp["w"], Weights);
        Assert.Equal(40, same.Tasks);
        Assert.Equal(rows.Average(r => r.AdjustedReward), same.MeanReward);
        Assert.Equal(same.MeanReward, same.RecordedMeanReward);
        Assert.Equal(40, same.ByChain.Sum(g => g.Tasks));
        Assert.Equal(40, same.ByTaskType.Sum(g => g.Tasks));

        var qualityOnly = RunRescoring.Read(tmp["w"], RewardWeights.Parse("quality=1"));
        Assert.Equal(rows.Average(r => r.Quality), qualityOnly.MeanReward);
        var coder = qualityOnly.ByChain.Single(g => g.Name == "coder/anthropic");
        Assert.Equal(rows.Where(r => r.Agent == "coder" && r.Provider == "anthropic").Average(r => r.Quality), coder.MeanReward);

        // The weights are saved with the run, in the object form the converter writes and reads back.
        var config = JsonSerializer.Deserialize<QlearnOptions>(File.ReadAllText(tmp["w/config.json"]), Tracking.Run.Json)!;
        Assert.Equal(Weights, config.Weights);
    }

    [Fact]
    public async Task A_run_without_weights_saves_null_weights_and_its_rows_learn_the_seed_reward()
    {
        using var tmp = new TempDir();
        await Run(new QlearnOptions(), tmp["s"]);
        var rows = IterationRow.ReadCsv(tmp["s/iterations.csv"]).ToArray();

        Assert.All(rows, r => Assert.Equal(new CompositeReward(new RewardOptions()).Compute(
            new JudgeVerdict(r.Relevance, r.Accuracy, r.Completeness, r.AgentMatch, "", r.ParseFailure), r.CostUsd, r.LatencySeconds), r.RawReward));
        Assert.Null(JsonSerializer.Deserialize<QlearnOptions>(File.ReadAllText(tmp["s/config.json"]), Tracking.Run.Json)!.Weights);
    }

    [Fact]
    public void Rows_from_before_the_fairness_column_rescore_without_fairness_and_refuse_a_fairness_weight()
    {
        using var tmp = new TempDir();
        var header = string.Join(',', QlearnSession.IterationColumns.Take(QlearnSession.IterationColumns.Count - 1));
        File.WriteAllText(tmp["iterations.csv"], header + "\n"
            + "1,t1,coding,coding,balanced,5,coder,anthropic,1,1,1,0.6,0.9,0.8,0,0.8,100,200,2,0.001,0.0002,1,0,0,1,0,1.7,false\n");

        var row = Assert.Single(IterationRow.ReadCsv(tmp["iterations.csv"]));
        Assert.Null(row.Fairness);
        Assert.Null(row.Vector);
        Assert.Equal(0.9 - 20 * 0.001 - 0.05 * 2, RunRescoring.Read(tmp.Path, RewardWeights.Parse("quality=1,cost=20,latency=0.05")).MeanReward, 15);
        var e = Assert.Throws<RoutingInputException>(() => RunRescoring.Read(tmp.Path, Weights));
        Assert.Equal($"{tmp["iterations.csv"]} was recorded before the fairness column existed, so fairness cannot be weighed; give fairness=0 or leave it out.", e.Message);
    }

    [Fact]
    public async Task A_run_from_before_the_fairness_column_resumes_with_the_column_added_and_its_old_rows_unknown()
    {
        using var tmp = new TempDir();
        var whole = await Run(new QlearnOptions { Iterations = 5 }, tmp["whole"]);
        await Run(new QlearnOptions { Iterations = 3 }, tmp["old"]);
        var path = tmp["old/iterations.csv"];
        // As an older workbench wrote it: no fairness column.
        File.WriteAllLines(path, File.ReadAllLines(path).Select(l => l[..l.LastIndexOf(',')]));
        var progress = new CollectingProgress();

        await QlearnSession.RunAsync(new QlearnRequest { Options = new QlearnOptions { Iterations = 5 }, ResumeDirectory = tmp["old"], RunsRoot = tmp["old-root"] }, progress, CancellationToken.None);

        Assert.Contains($"{path} is from before the fairness column; it is added, empty on the rows already there.", progress.Notices);
        var rows = IterationRow.ReadCsv(path).ToArray();
        var expected = IterationRow.ReadCsv(tmp["whole/iterations.csv"]).ToArray();
        Assert.Equal(string.Join(',', QlearnSession.IterationColumns), File.ReadLines(path).First());
        Assert.Equal([null, null, null, expected[3].Fairness, expected[4].Fairness], rows.Select(r => r.Fairness));
        Assert.Equal(expected.Select(r => r with { Fairness = null }), rows.Select(r => r with { Fairness = null }));
    }

    [Fact]
    public void A_directory_without_iterations_is_refused_in_one_sentence()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<RoutingInputException>(() => RunRescoring.Read(tmp.Path, Weights));
        Assert.Equal($"{tmp.Path} has no iterations.csv; only qlearn runs record a reward vector per task.", e.Message);
    }

    private static TabularQLearner Q(QLearningCoordinator c) => (TabularQLearner)c.RoutingLearner;
}
