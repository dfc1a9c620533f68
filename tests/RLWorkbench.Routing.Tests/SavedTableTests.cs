using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

public class SavedTableTests
{
    [Fact]
    public async Task Route_reads_a_chain_run_s_table_with_its_chains_in_the_learner_s_order()
    {
        using var tmp = new TempDir();
        var options = new QlearnOptions { Iterations = 3, Chains = new Core.ChainOptions { MaxLength = 2 } };
        await QlearnSession.RunAsync(new QlearnRequest { Options = options, OutDirectory = tmp["run"], RunsRoot = tmp["root"] }, new CollectingProgress(), default);
        var path = tmp["run/artifacts/qtable.json"];
        var table = Learning.LearnedTable.Load(path);
        Assert.Equal(new Core.ChainOptions { MaxLength = 2 }.Enumerate(), table.Chains);
        Assert.Equal((Learning.TaskTypeCoordinator.Name, Learning.RoutingAlgorithms.QLearning), (table.Learner, table.Algorithm));
        // The chain Q-table itself is not the seed's QTable of eight single actions; only LearnedTable reads it.
        Assert.Equal($"The Q-table {path} routes chains (a qlearn --chains run), not the 8 single agent/provider actions.",
            Assert.Throws<Core.RoutingInputException>(() => Learning.QTable.Load(path)).Message);
    }

    [Fact]
    public void A_bandit_checkpoint_from_before_bandit_tables_had_their_own_document_still_restores()
    {
        // Such a checkpoint carries the sample means as a Q-table next to the counts and sums; the counts and sums are what restore.
        var old = Learning.QLearningCoordinator.Create("base", new Learning.QLearningOptions(), new Learning.LoadTrackerOptions(), new Gym.Random.SeededRandomSource(1), Learning.RoutingAlgorithms.Ucb1);
        old.Complete(old.Decide(Core.TaskBank.Default[0]), 0.25, Core.TaskType.Coding);
        var snapshot = old.Snapshot() with { QTable = new Learning.QTable(old.States).ToDocument() };
        var copy = Learning.QLearningCoordinator.Create("base", new Learning.QLearningOptions(), new Learning.LoadTrackerOptions(), new Gym.Random.SeededRandomSource(1), Learning.RoutingAlgorithms.Ucb1);
        copy.Restore(snapshot);
        Assert.Equal(old.SaveTable().Json, copy.SaveTable().Json);
    }
}
