using RLWorkbench.Gym.Random;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

/// <summary>Schedules, separate gradient clipping and the validation of the new options.</summary>
public class TrainingOptionTests
{
    [Theory]
    [InlineData(Schedules.Constant, 0.0, 1.0)]
    [InlineData(Schedules.Constant, 1.0, 1.0)]
    [InlineData(Schedules.Linear, 0.25, 0.8)]
    [InlineData(Schedules.Linear, 1.0, 0.2)]
    [InlineData(Schedules.Linear, 1.3, 0.2)]
    [InlineData(Schedules.Cosine, 0.0, 1.0)]
    [InlineData(Schedules.Cosine, 0.5, 0.6)]
    [InlineData(Schedules.Cosine, 1.0, 0.2)]
    [InlineData(Schedules.Exponential, 0.5, 0.44721359549995793)]
    [InlineData(Schedules.Exponential, 1.0, 0.2)]
    public void Schedules_move_from_start_to_final_with_progress(string schedule, double progress, double expected)
    {
        Assert.Equal(expected, Schedules.Value(schedule, 1.0, 0.2, progress), 12);
    }

    [Fact]
    public void The_older_linear_decay_is_a_linear_learning_rate_schedule_to_zero()
    {
        var decay = new PpoOptions { LinearLearningRateDecay = true, LearningRate = 3e-4 };
        Assert.Equal(3e-4 * (1 - 0.3), decay.LearningRateAt(0.3));
        Assert.Equal(0, decay.LearningRateAt(1.1));
        var cosine = new PpoOptions { LearningRateSchedule = Schedules.Cosine, LearningRateFinal = 1e-5, EntropyCoefficientSchedule = Schedules.Linear };
        Assert.Equal(1e-5 + (3e-4 - 1e-5) * 0.5 * (1 + Math.Cos(Math.PI * 0.3)), cosine.LearningRateAt(0.3), 15);
        Assert.Equal(0.01 * 0.5, cosine.EntropyCoefficientAt(0.5), 15);
        Assert.Equal(3e-4, new PpoOptions().LearningRateAt(0.9));
    }

    [Theory]
    [InlineData("distribution", "distribution must be one of diag-gaussian, squashed-gaussian, beta, bernoulli, got 'gaussian'.")]
    [InlineData("learningRateSchedule", "learningRateSchedule must be one of constant, linear, cosine, exponential, got 'step'.")]
    [InlineData("exponentialToZero", "an exponential learningRateSchedule needs a positive start and a positive learningRateFinal, got 0.0003 and 0.")]
    [InlineData("entropyCoefficientFinal", "entropyCoefficientFinal must be a finite number >= 0, got -1.")]
    [InlineData("decayAndCosine", "linearLearningRateDecay is the older spelling of learningRateSchedule \"linear\", so it cannot be combined with learningRateSchedule \"cosine\".")]
    [InlineData("maxGradNormPolicy", "maxGradNormPolicy must be positive when set, got 0.")]
    [InlineData("maxGradNormValue", "maxGradNormValue must be positive when set, got -1.")]
    [InlineData("betaStateDependent", "stateDependentStd applies to the Gaussian distributions; beta's spread always depends on the state.")]
    [InlineData("betaLogStdInit", "logStdInit applies to the Gaussian distributions, not beta, got -1.")]
    [InlineData("logStdInit", "logStdInit must be between -20 and 20, got 50.")]
    [InlineData("observationClip", "observationClip must be positive, got 0.")]
    [InlineData("rewardClip", "rewardClip must be positive, got -5.")]
    public void A_bad_new_option_is_one_sentence_naming_its_json_name(string which, string expected)
    {
        var options = which switch
        {
            "distribution" => new PpoOptions { Distribution = "gaussian" },
            "learningRateSchedule" => new PpoOptions { LearningRateSchedule = "step" },
            "exponentialToZero" => new PpoOptions { LearningRateSchedule = Schedules.Exponential },
            "entropyCoefficientFinal" => new PpoOptions { EntropyCoefficientSchedule = Schedules.Linear, EntropyCoefficientFinal = -1 },
            "decayAndCosine" => new PpoOptions { LinearLearningRateDecay = true, LearningRateSchedule = Schedules.Cosine },
            "maxGradNormPolicy" => new PpoOptions { MaxGradNormPolicy = 0 },
            "maxGradNormValue" => new PpoOptions { MaxGradNormValue = -1 },
            "betaStateDependent" => new PpoOptions { Distribution = ActionDistributions.Beta, StateDependentStd = true },
            "betaLogStdInit" => new PpoOptions { Distribution = ActionDistributions.Beta, LogStdInit = -1 },
            "logStdInit" => new PpoOptions { LogStdInit = 50 },
            "observationClip" => new PpoOptions { NormalizeObservations = true, ObservationClip = 0 },
            "rewardClip" => new PpoOptions { RewardClip = -5 },
            _ => throw new ArgumentOutOfRangeException(nameof(which)),
        };
        Assert.Equal(expected, options.Problem());
    }

    [Fact]
    public void Group_clipping_scales_each_group_to_its_own_norm()
    {
        using var gradients = tensor(new float[] { 3, 4, 0.1f, 6, 8, 0.2f });
        // Group A: elements 0-1 and 5 (norm sqrt(25.04)); group B: 2-4 (norm sqrt(100.01)).
        IReadOnlyList<(long, long)> a = [(0, 2), (5, 1)];
        IReadOnlyList<(long, long)> b = [(2, 3)];
        var normA = GroupGradientClipping.ClipGroupNorm(gradients, a, 1.0).item<float>();
        var normB = GroupGradientClipping.ClipGroupNorm(gradients, b, 100.0).item<float>();
        Assert.Equal(Math.Sqrt(25.04), normA, 5);
        Assert.Equal(Math.Sqrt(100.01), normB, 5);
        var scale = 1 / (Math.Sqrt(25.04) + 1e-6);
        Assert.Equal(new[] { (float)(3 * scale), (float)(4 * scale), 0.1f, 6, 8, (float)(0.2 * scale) }, HostTransfer.ToArray(gradients), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void The_policy_group_is_the_policy_mlp_action_head_and_log_std_and_the_value_group_the_rest()
    {
        var shape = new PolicyShape(3, ActionKind.Continuous, 2, [0, 0], [1, 1]);
        using var policy = new ActorCritic(shape, [4], CPU, new SeededRandomSource(1));
        var names = policy.Parameters.Parameters.Select(p => p.Name).ToArray();
        Assert.Equal(["policy.0.weight", "policy.0.bias", "value.0.weight", "value.0.bias", "action.weight", "action.bias", "value_head.weight", "value_head.bias", "log_std"], names);
        // Offsets: policy 0-15, value 16-31, action 32-41, value head 42-46, log_std 47-48.
        Assert.Equal([(0L, 16L), (32L, 10L), (47L, 2L)], GroupGradientClipping.Ranges(policy.Parameters, n => !policy.IsValueParameter(n)));
        Assert.Equal([(16L, 16L), (42L, 5L)], GroupGradientClipping.Ranges(policy.Parameters, policy.IsValueParameter));
    }

    [Fact]
    public void Separate_clipping_holds_the_policy_still_while_the_value_function_learns()
    {
        var options = new PpoOptions
        {
            NumEnvs = 2, StepsPerEnv = 32, MinibatchSize = 16, Epochs = 2, HiddenSizes = [8], Seed = 2,
            MaxGradNormPolicy = 1e-12, MaxGradNormValue = 10,
        };
        using var trainer = new PpoTrainer(options, i => new BoxTarget(i), CPU);
        var before = trainer.Policy.Parameters.ValuesToArray();
        trainer.Learn(64);
        var after = trainer.Policy.Parameters.ValuesToArray();
        double MaxChange(Func<string, bool> member) => trainer.Policy.Parameters.Parameters.Where(p => member(p.Name))
            .SelectMany(p => Enumerable.Range((int)p.Offset, (int)p.Count)).Max(i => Math.Abs(after[i] - before[i]));
        // With a gradient of norm 1e-12 Adam's step is about lr x g / eps: far below 1e-6.
        Assert.True(MaxChange(n => !trainer.Policy.IsValueParameter(n)) < 1e-6, "the policy side moved");
        Assert.True(MaxChange(trainer.Policy.IsValueParameter) > 1e-3, "the value side did not learn");
    }

    /// <summary>
    /// The seed's Gaussian on the CPU takes the host loss path; the optional target-KL stop reads its approx KL there.
    /// The first minibatch sees the rollout's own weights (ratio 1, approx KL 0) and is applied; the second sees moved weights
    /// and trips a target this small, so each update applies exactly one gradient step and is marked stopped early.
    /// </summary>
    [Fact]
    public void The_target_kl_stop_works_on_the_host_loss_path()
    {
        var options = new PpoOptions { NumEnvs = 2, StepsPerEnv = 32, MinibatchSize = 16, Epochs = 2, HiddenSizes = [8], Seed = 3, TargetKl = 1e-9 };
        using var trainer = new PpoTrainer(options, i => new BoxTarget(i), CPU);
        Assert.True(PpoTrainer.UsesHostLoss(options, trainer.Policy, CPU));
        var updates = new List<UpdateMetrics>();
        trainer.Learn(128, new RecordUpdates(updates));
        Assert.Equal(2, updates.Count);
        Assert.All(updates, m =>
        {
            Assert.True(m.StoppedEarly);
            Assert.Equal(1, m.GradientSteps);
        });
        Assert.False(PpoTrainer.UsesHostLoss(options with { TensorLoss = true }, trainer.Policy, CPU));
    }

    private sealed class RecordUpdates(List<UpdateMetrics> updates) : ITrainingCallback
    {
        public TrainingDecision OnUpdateEnd(ITrainingContext training, UpdateMetrics metrics)
        {
            updates.Add(metrics);
            return TrainingDecision.Continue;
        }
    }
}
