using RLWorkbench.Gym.Random;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

public class AnalyticTests
{
    private static float[] Floats(Tensor t) => HostTransfer.ToArray(t.detach().contiguous());

    [Fact]
    public void Torch_native_library_computes_a_matrix_product()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using var b = tensor(new float[] { 5, 6, 7, 8 }, [2, 2]);
        using var c = a.mm(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, Floats(c));
    }

    [Fact]
    public void Gae_matches_hand_computed_values_with_episode_starts_and_a_final_done()
    {
        // Two environments, three steps, step-major layout [t, env].
        var buffer = new RolloutBuffer(steps: 3, envs: 2, observationSize: 1, actionWidth: 1);
        var zero = new float[2];
        buffer.Add(zero, zero, rewards: [1, 0], episodeStarts: [1, 1], values: [0.5f, 0], logProbs: zero);
        buffer.Add(zero, zero, rewards: [2, 0], episodeStarts: [0, 0], values: [1.0f, 0], logProbs: zero);
        buffer.Add(zero, zero, rewards: [3, 1], episodeStarts: [1, 0], values: [1.5f, 0], logProbs: zero);

        buffer.ComputeReturnsAndAdvantages(lastValues: [2.0f, 5.0f], lastDones: [false, true], gamma: 0.9, lambda: 0.8);

        // Env 0: t2 bootstraps from 2.0; t1 ends an episode (t2 is a start), so no bootstrap; t0 chains into t1.
        //   d2 = 3 + .9*2 - 1.5 = 3.3; d1 = 2 - 1 = 1; d0 = 1 + .9*1 - .5 = 1.4, A0 = 1.4 + .72*1 = 2.12
        // Env 1: the last step ended its episode, so 5.0 is ignored: A2 = 1, A1 = .72, A0 = .5184.
        float[] expectedAdvantages = [2.12f, 0.5184f, 1.0f, 0.72f, 3.3f, 1.0f];
        float[] expectedReturns = [2.62f, 0.5184f, 2.0f, 0.72f, 4.8f, 1.0f];
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(expectedAdvantages[i], buffer.Advantages[i], 5);
            Assert.Equal(expectedReturns[i], buffer.Returns[i], 5);
        }
    }

    [Fact]
    public void Truncated_episode_reward_gets_the_discounted_value_of_its_final_observation()
    {
        var options = new PpoOptions { NumEnvs = 1, StepsPerEnv = 4, MinibatchSize = 4, HiddenSizes = [8], Gamma = 0.9, Seed = 3 };
        using var trainer = new PpoTrainer(options, _ => new TimeLimited(limit: 3), CPU);
        Assert.True(trainer.CollectRollout());
        using var probe = new PolicyInference(trainer.Policy, 1);
        probe.PredictValues([0.5f, -0.25f]);
        var v = probe.Values[0];
        Assert.NotEqual(0f, v);
        // Steps 0, 1 and 3 are ordinary; step 2 hits the time limit and is bootstrapped.
        Assert.Equal(1f, trainer.Buffer.Rewards[0]);
        Assert.Equal(1f, trainer.Buffer.Rewards[1]);
        Assert.Equal(1 + 0.9f * v, trainer.Buffer.Rewards[2], 5);
        Assert.Equal(1f, trainer.Buffer.Rewards[3]);
        Assert.Equal([1f, 0f, 0f, 1f], trainer.Buffer.EpisodeStarts);
        // The episode return counts the raw rewards only.
        Assert.Equal(3.0, trainer.Episodes.Recent.Single().Return);
    }

    [Fact]
    public void Clipped_surrogate_matches_hand_computed_values()
    {
        using var logProb = tensor(new float[] { 0, MathF.Log(1.5f), MathF.Log(0.5f) });
        using var oldLogProb = zeros(3);
        using var advantages = tensor(new float[] { 1, 2, -1 });
        var (loss, clipFraction, _) = PpoLoss.ClippedSurrogate(logProb, oldLogProb, advantages, 0.2);
        // ratios 1, 1.5, 0.5 -> min(rA, clip(r)A) = 1, 2.4, -0.8; clipped: the last two.
        Assert.Equal(-(1 + 2.4 - 0.8) / 3, loss.item<float>(), 5);
        Assert.Equal(2.0 / 3, clipFraction.item<float>(), 5);
    }

    [Fact]
    public void Value_loss_is_mse_and_clips_around_the_rollout_value_when_asked()
    {
        using var values = tensor(new float[] { 1, 2 });
        using var returns = tensor(new float[] { 0, 4 });
        using var oldValues = tensor(new float[] { 0, 3 });
        Assert.Equal(2.5f, PpoLoss.ValueLoss(values, returns, oldValues, null).item<float>(), 5);
        // Clipped predictions: 0 + clamp(1, +-.5) = .5 and 3 + clamp(-1, +-.5) = 2.5.
        Assert.Equal(1.25f, PpoLoss.ValueLoss(values, returns, oldValues, 0.5).item<float>(), 5);
    }

    [Fact]
    public void Advantages_are_normalised_with_the_unbiased_std_and_a_single_one_is_left_alone()
    {
        using var a = tensor(new float[] { 1, 2, 3 });
        Assert.Equal(new float[] { -1, 0, 1 }, Floats(PpoLoss.NormalizeAdvantages(a)), new FloatTolerance(1e-6f));
        using var single = tensor(new float[] { 7 });
        Assert.Equal(new float[] { 7 }, Floats(PpoLoss.NormalizeAdvantages(single)));
    }

    [Fact]
    public void Approx_kl_is_the_mean_of_exp_r_minus_one_minus_r()
    {
        using var logProb = tensor(new float[] { MathF.Log(2), 0 });
        using var old = zeros(2);
        using var advantages = ones(2);
        Assert.Equal(((2 - 1 - Math.Log(2)) + 0) / 2, PpoLoss.ClippedSurrogate(logProb, old, advantages, 0.2).ApproxKl.item<float>(), 5);
    }

    [Fact]
    public void Gaussian_log_prob_and_entropy_match_closed_forms()
    {
        using var mean = tensor(new float[] { 0.5f, -1f }, [1, 2]);
        using var logStd = tensor(new float[] { MathF.Log(2), 0 });
        using var action = tensor(new float[] { 1.5f, 0f }, [1, 2]);
        var log2Pi = Math.Log(2 * Math.PI);
        // z = (1.5 - .5)/2 = .5 and (0 + 1)/1 = 1.
        var expected = -0.5 * (0.25 + 1) - Math.Log(2) - log2Pi;
        Assert.Equal(expected, DiagonalGaussian.LogProb(action, mean, logStd).item<float>(), 5);
        Assert.Equal(1 + log2Pi + Math.Log(2), DiagonalGaussian.Entropy(logStd).item<float>(), 5);
        // The host-side rollout formula agrees: noise = z.
        Assert.Equal(expected, DiagonalGaussian.LogProbOfNoise([0.5f, 1f], Math.Log(2)), 6);
    }

    [Fact]
    public void Categorical_log_prob_entropy_and_sampling_match_closed_forms()
    {
        using var logits = tensor(new float[] { 0, MathF.Log(2), MathF.Log(3) }, [1, 3]);
        using var action = tensor(new float[] { 2 }, [1, 1]);
        Assert.Equal(Math.Log(0.5), Categorical.LogProb(logits, action).item<float>(), 5);
        double[] p = [1 / 6.0, 2 / 6.0, 3 / 6.0];
        Assert.Equal(-p.Sum(x => x * Math.Log(x)), Categorical.Entropy(logits).item<float>(), 5);

        float[] host = [0, MathF.Log(2), MathF.Log(3)];
        Assert.Equal(0, Categorical.Sample(host, 0.1).Action);
        Assert.Equal(1, Categorical.Sample(host, 0.4).Action);
        var (a, lp) = Categorical.Sample(host, 0.9);
        Assert.Equal(2, a);
        Assert.Equal(Math.Log(0.5), lp, 5);
        Assert.Equal(2, Categorical.Argmax(host).Action);
    }

    [Fact]
    public void Orthogonal_init_gives_sb3_gains_zero_biases_and_the_spec_parameter_count()
    {
        var shape = new PolicyShape(67, ActionKind.Continuous, 12, new float[12], Enumerable.Repeat(1f, 12).ToArray());
        using var policy = new ActorCritic(shape, [256, 256, 128], CPU, new SeededRandomSource(1));
        Assert.Equal(233_881, policy.Parameters.Count);
        foreach (var p in policy.Parameters.Parameters)
        {
            using var w = p.Leaf.detach();
            if (p.Name.EndsWith(".bias", StringComparison.Ordinal) || p.Name == "log_std")
            {
                Assert.All(Floats(w), x => Assert.Equal(0f, x));
                continue;
            }
            var gain = p.Name.StartsWith("action", StringComparison.Ordinal) ? 0.01 : p.Name.StartsWith("value_head", StringComparison.Ordinal) ? 1.0 : Math.Sqrt(2);
            // Orthonormal along the shorter side: W W^T for wide or square, W^T W for tall matrices.
            var (rows, cols) = (w.shape[0], w.shape[1]);
            using var gram = rows <= cols ? w.mm(w.t()) : w.t().mm(w);
            using var identity = eye(Math.Min(rows, cols)) * (gain * gain);
            var maxError = (gram - identity).abs().max().item<float>();
            Assert.True(maxError < 1e-4 * Math.Max(1, gain * gain), $"{p.Name}: max |W W^T - g^2 I| = {maxError}");
        }
    }

    [Fact]
    public void Gradient_clipping_scales_to_the_global_norm_and_leaves_small_gradients_alone()
    {
        using var g = tensor(new float[] { 3, 0, 4 });
        var norm = GradientClipping.ClipGlobalNorm(g, 0.5);
        Assert.Equal(5f, norm.item<float>(), 5);
        Assert.Equal(new float[] { 0.3f, 0, 0.4f }, Floats(g), new FloatTolerance(1e-5f));
        using var small = tensor(new float[] { 0.1f, 0.2f });
        GradientClipping.ClipGlobalNorm(small, 0.5);
        Assert.Equal(new float[] { 0.1f, 0.2f }, Floats(small));
    }

    [Fact]
    public void Flat_adam_and_clipping_match_torch_optim_adam_and_clip_grad_norm()
    {
        var shape = new PolicyShape(3, ActionKind.Continuous, 2, [-1, -1], [1, 1]);
        using var policy = new ActorCritic(shape, [5], CPU, new SeededRandomSource(7));
        using var adam = new FlatAdam(policy.Parameters, epsilon: 1e-5);
        // A reference copy of every weight as ordinary parameters, stepped by torch's own Adam.
        var reference = policy.Parameters.Parameters.Select(p => new TorchSharp.Modules.Parameter(p.Leaf.detach().clone())).ToList();
        using var torchAdam = optim.Adam(reference, lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-5);
        using var obs = tensor(new float[] { 0.3f, -1, 2, 1, 0.5f, -0.2f }, [2, 3]);
        using var act = tensor(new float[] { 0.1f, -0.4f, 0.7f, 0.2f }, [2, 2]);
        for (var step = 0; step < 3; step++)
        {
            policy.Parameters.ZeroGradients();
            var (logProb, _, value) = policy.Evaluate(obs, act);
            (logProb.sum() * 50 + value.square().sum()).backward();
            GradientClipping.ClipGlobalNorm(policy.Parameters.Gradients, 0.5);
            adam.Step(0.01);

            torchAdam.zero_grad();
            var byName = policy.Parameters.Parameters.Select((p, i) => (p.Name, reference[i])).ToDictionary(x => x.Name, x => (Tensor)x.Item2);
            var refLogProb = DiagonalGaussian.LogProb(act, ReferenceHead(byName, obs), byName["log_std"]);
            var refValue = ReferenceValue(byName, obs);
            (refLogProb.sum() * 50 + refValue.square().sum()).backward();
            nn.utils.clip_grad_norm_(reference, 0.5);
            torchAdam.step();
        }
        var flat = policy.Parameters.ValuesToArray();
        var expected = reference.SelectMany(p => Floats(p)).ToArray();
        Assert.Equal(expected, flat, new FloatTolerance(1e-5f));
    }

    private static Tensor ReferenceHead(Dictionary<string, Tensor> p, Tensor x)
    {
        var h = nn.functional.linear(x, p["policy.0.weight"], p["policy.0.bias"]).relu();
        return nn.functional.linear(h, p["action.weight"], p["action.bias"]);
    }

    private static Tensor ReferenceValue(Dictionary<string, Tensor> p, Tensor x)
    {
        var h = nn.functional.linear(x, p["value.0.weight"], p["value.0.bias"]).relu();
        return nn.functional.linear(h, p["value_head.weight"], p["value_head.bias"]).squeeze(1);
    }
}

public sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(x));

    public int GetHashCode(float obj) => 0;
}
