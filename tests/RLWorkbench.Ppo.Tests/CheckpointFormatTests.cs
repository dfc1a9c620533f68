using System.Text;
using RLWorkbench.Gym.Random;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

/// <summary>The RLWPPO2 format: distribution and normaliser state survive a save, a load and a resume exactly; unknown files fail in one sentence.</summary>
public sealed class CheckpointFormatTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"ppo-format-{Guid.NewGuid():N}");

    public CheckpointFormatTests() => Directory.CreateDirectory(directory);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static readonly PpoOptions Normalised = new()
    {
        NumEnvs = 2, StepsPerEnv = 16, MinibatchSize = 8, Epochs = 2, HiddenSizes = [8], Seed = 3,
        Distribution = ActionDistributions.SquashedGaussian, StateDependentStd = true, LogStdInit = -0.5,
        NormalizeObservations = true, NormalizeRewards = true,
    };

    private static PpoTrainer NewTrainer(PpoOptions options) => new(options, i => new BoxTarget(10 + i, offset: 50, scale: 20), CPU);

    [Fact]
    public void Distribution_and_normaliser_statistics_survive_a_save_and_load_exactly()
    {
        using var trainer = NewTrainer(Normalised);
        trainer.Learn(64);
        var path = Path.Combine(directory, "model.bin");
        trainer.ToCheckpoint().Save(path);
        var loaded = PpoCheckpoint.Load(path);

        Assert.Equal(ActionDistributions.SquashedGaussian, loaded.Distribution);
        var observations = trainer.Policy.Normalizer!.Statistics.Snapshot();
        Assert.Equal(observations.Mean, loaded.ObservationStatistics!.Mean);
        Assert.Equal(observations.Variance, loaded.ObservationStatistics.Variance);
        Assert.Equal(observations.Count, loaded.ObservationStatistics.Count);
        var returns = trainer.RewardScaler!.Statistics.Snapshot();
        Assert.Equal(returns.Mean, loaded.ReturnStatistics!.Mean);
        Assert.Equal(returns.Variance, loaded.ReturnStatistics.Variance);
        Assert.Equal(returns.Count, loaded.ReturnStatistics.Count);
        // 32 observations per rollout (plus the reset batch) went into the statistics; none after the last update.
        Assert.Equal(2 + 64 + 1e-4, observations.Count, 9);

        // A policy made from the file (what eval uses) acts exactly as the trainer's, normalising with the saved statistics.
        using var policy = loaded.CreatePolicy(CPU);
        float[] raw = [51, 55, 69.5f, 60];
        Assert.Equal(Act(trainer.Policy, raw), Act(policy, raw));
        Assert.Equal(observations.Mean, policy.Normalizer!.Statistics.Snapshot().Mean);
    }

    private static float[] Act(ActorCritic policy, float[] observations)
    {
        using var inference = new PolicyInference(policy, observations.Length / policy.Shape.ObservationSize);
        var actions = new float[observations.Length];
        var logProbs = new float[inference.Batch];
        inference.Act(observations, actions, logProbs, deterministic: true, new SeededRandomSource(0));
        return [.. actions, .. logProbs, .. inference.Values];
    }

    [Fact]
    public void A_resumed_run_restores_the_statistics_and_continues_identically_from_them()
    {
        using var trainer = NewTrainer(Normalised);
        trainer.Learn(64);
        var path = Path.Combine(directory, "checkpoint.bin");
        trainer.ToCheckpoint().Save(path);

        using var resumed = NewTrainer(Normalised with { Seed = 77 });
        resumed.Restore(PpoCheckpoint.Load(path));
        Assert.Equal(trainer.Policy.Normalizer!.Statistics.Snapshot().Mean, resumed.Policy.Normalizer!.Statistics.Snapshot().Mean);
        Assert.Equal(trainer.Policy.Normalizer.Statistics.Snapshot().Variance, resumed.Policy.Normalizer.Statistics.Snapshot().Variance);
        Assert.Equal(trainer.Policy.Normalizer.Statistics.Count, resumed.Policy.Normalizer.Statistics.Count);
        Assert.Equal(trainer.RewardScaler!.Statistics.Snapshot().Variance, resumed.RewardScaler!.Statistics.Snapshot().Variance);
        Assert.Equal(trainer.RewardScaler.Statistics.Count, resumed.RewardScaler.Statistics.Count);

        using var twin = NewTrainer(Normalised with { Seed = 77 });
        twin.Restore(PpoCheckpoint.Load(path));
        resumed.Learn(128);
        twin.Learn(128);
        Assert.Equal(twin.Policy.Parameters.ValuesToArray(), resumed.Policy.Parameters.ValuesToArray());
        Assert.Equal(twin.Policy.Normalizer!.Statistics.Snapshot().Mean, resumed.Policy.Normalizer.Statistics.Snapshot().Mean);
        Assert.Equal(twin.RewardScaler!.Statistics.Snapshot().Variance, resumed.RewardScaler.Statistics.Snapshot().Variance);
        Assert.NotEqual(trainer.Policy.Normalizer.Statistics.Snapshot().Mean, resumed.Policy.Normalizer.Statistics.Snapshot().Mean);
    }

    [Fact]
    public void Stopping_mid_rollout_puts_the_statistics_back_to_the_last_finished_update()
    {
        using var trainer = NewTrainer(Normalised);
        trainer.Learn(32);
        var observations = trainer.Policy.Normalizer!.Statistics.Snapshot();
        var returns = trainer.RewardScaler!.Statistics.Snapshot();
        using var cancel = new CancellationTokenSource();
        var steps = 0;
        Assert.Equal(TrainingOutcome.Cancelled, trainer.Learn(96, new StepCounter(() => { if (++steps == 5) cancel.Cancel(); }), cancel.Token));
        Assert.Equal(observations.Mean, trainer.Policy.Normalizer.Statistics.Snapshot().Mean);
        Assert.Equal(observations.Count, trainer.Policy.Normalizer.Statistics.Count);
        Assert.Equal(returns.Variance, trainer.RewardScaler.Statistics.Snapshot().Variance);
    }

    [Fact]
    public void A_checkpoint_of_another_policy_is_refused_on_resume()
    {
        using var squashed = NewTrainer(Normalised);
        using var seed = NewTrainer(new PpoOptions { NumEnvs = 2, StepsPerEnv = 16, MinibatchSize = 8, Epochs = 2, HiddenSizes = [8] });
        var e = Assert.Throws<InvalidDataException>(() => seed.Restore(squashed.ToCheckpoint()));
        Assert.Equal("The checkpoint's policy (squashed-gaussian, state-dependent std, normalised observations, scaled rewards) differs from this run's (diag-gaussian).", e.Message);
    }

    [Fact]
    public void A_checkpoint_of_an_unknown_format_version_fails_naming_the_file_and_the_version()
    {
        var path = Path.Combine(directory, "future.bin");
        using (var writer = new BinaryWriter(File.Create(path), Encoding.UTF8))
        {
            writer.Write("RLWPPO7");
            writer.Write("{\"SomethingNew\": true}");
        }
        var e = Assert.Throws<InvalidDataException>(() => PpoCheckpoint.Load(path));
        Assert.Equal($"{path} is a PPO checkpoint of format version 7, but this build reads versions 1 to 2; use the workbench that wrote it or a newer one.", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a checkpoint at all")]
    public void A_file_that_is_not_a_checkpoint_fails_naming_the_file(string content)
    {
        var path = Path.Combine(directory, "notes.bin");
        File.WriteAllText(path, content);
        var e = Assert.Throws<InvalidDataException>(() => PpoCheckpoint.Load(path));
        Assert.Equal($"{path} is not a PPO checkpoint of this workbench.", e.Message);
    }

    [Fact]
    public void A_truncated_checkpoint_fails_naming_the_file()
    {
        using var trainer = NewTrainer(Normalised);
        var path = Path.Combine(directory, "cut.bin");
        trainer.ToCheckpoint().Save(path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        var e = Assert.Throws<InvalidDataException>(() => PpoCheckpoint.Load(path));
        Assert.StartsWith($"{path} is not a readable PPO checkpoint (", e.Message);
    }

    private sealed class StepCounter(Action action) : ITrainingCallback
    {
        public TrainingDecision OnStep(ITrainingContext training)
        {
            action();
            return TrainingDecision.Continue;
        }
    }
}
