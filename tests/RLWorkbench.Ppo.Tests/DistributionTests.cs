using RLWorkbench.Gym.Random;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

/// <summary>Each action distribution against closed forms: log-probability, entropy, the squashing correction, sampling and the deterministic action.</summary>
public class DistributionTests
{
    private static float[] Floats(Tensor t) => HostTransfer.ToArray(t.detach().contiguous());

    private static (float[] Low, float[] High) UnitBox(int d) => (new float[d], Enumerable.Repeat(1f, d).ToArray());

    private static double NormalLogDensity(double x, double mean, double logStd) =>
        -0.5 * Math.Pow((x - mean) / Math.Exp(logStd), 2) - logStd - 0.5 * Math.Log(2 * Math.PI);

    [Fact]
    public void Diagonal_gaussian_with_a_free_log_std_matches_closed_forms_and_clips_on_the_way_out()
    {
        var gaussian = new DiagonalGaussianDistribution([0, -1], [1, 1]);
        Assert.Equal((2, 2, 2), (gaussian.HeadWidth, gaussian.ActionWidth, gaussian.StateIndependentParameter!.Value.Width));
        using var head = tensor(new float[] { 0.5f, -1f }, [1, 2]);
        using var logStd = tensor(new float[] { MathF.Log(2), 0 });
        using var action = tensor(new float[] { 1.5f, 0f }, [1, 2]);
        var (logProb, entropy) = gaussian.Evaluate(head, logStd, action);
        Assert.Equal(NormalLogDensity(1.5, 0.5, Math.Log(2)) + NormalLogDensity(0, -1, 0), logProb.item<float>(), 5);
        Assert.Equal(1 + Math.Log(2 * Math.PI) + Math.Log(2), entropy.item<float>(), 5);

        var stored = new float[2];
        var deterministicLogProb = gaussian.Deterministic([0.5f, -1f], [MathF.Log(2), 0], stored);
        Assert.Equal(new[] { 0.5f, -1f }, stored);
        Assert.Equal(NormalLogDensity(0.5, 0.5, Math.Log(2)) + NormalLogDensity(-1, -1, 0), deterministicLogProb, 6);
        var environment = new float[2];
        gaussian.ToEnvironment([1.5f, -3f], environment);
        Assert.Equal(new[] { 1f, -1f }, environment);
        Assert.Equal(Math.Log(2) / 2, gaussian.MeanLogStd([0.5f, -1f], [MathF.Log(2), 0]), 6);
    }

    [Fact]
    public void Diagonal_gaussian_with_a_state_dependent_std_reads_it_from_the_head_and_clamps_it()
    {
        var gaussian = new DiagonalGaussianDistribution([0], [1], stateDependentStd: true, logStdInit: -1);
        Assert.Equal((2, 1), (gaussian.HeadWidth, gaussian.ActionWidth));
        Assert.Null(gaussian.StateIndependentParameter);
        var bias = new float[2];
        gaussian.Initialise(bias, []);
        Assert.Equal(new[] { 0f, -1f }, bias);

        // Two rows: log std -1 and 5, the second clamped to SB3's maximum of 2.
        using var head = tensor(new float[] { 0.2f, -1f, 0.4f, 5f }, [2, 2]);
        using var action = tensor(new float[] { 0.7f, -0.6f }, [2, 1]);
        var (logProb, entropy) = gaussian.Evaluate(head, null, action);
        Assert.Equal([NormalLogDensity(0.7, 0.2, -1), NormalLogDensity(-0.6, 0.4, 2)], Floats(logProb).Select(x => (double)x), new DoubleTolerance(1e-5));
        Assert.Equal([0.5 + 0.5 * Math.Log(2 * Math.PI) - 1, 0.5 + 0.5 * Math.Log(2 * Math.PI) + 2], Floats(entropy).Select(x => (double)x), new DoubleTolerance(1e-5));
        Assert.Equal(2, gaussian.MeanLogStd([0.4f, 5f], []), 6);
    }

    [Fact]
    public void Squashed_gaussian_log_prob_is_the_gaussian_less_the_tanh_and_affine_log_determinants()
    {
        var squashed = new SquashedGaussianDistribution([-1, 2], [3, 2.5f]);
        using var head = tensor(new float[] { 0.3f, -0.2f }, [1, 2]);
        using var logStd = tensor(new float[] { -0.5f, 0.4f });
        using var u = tensor(new float[] { 1.1f, -2.3f }, [1, 2]);
        var (logProb, _) = squashed.Evaluate(head, logStd, u);
        // a = low + (tanh(u) + 1) (high - low) / 2, so log p(a) = log N(u) - log(1 - tanh(u)^2) - log((high - low) / 2) per dimension.
        var expected = NormalLogDensity(1.1, 0.3, -0.5) - Math.Log(1 - Math.Pow(Math.Tanh(1.1), 2)) - Math.Log(2)
            + NormalLogDensity(-2.3, -0.2, 0.4) - Math.Log(1 - Math.Pow(Math.Tanh(-2.3), 2)) - Math.Log(0.25);
        Assert.Equal(expected, logProb.item<float>(), 4);

        var environment = new float[2];
        squashed.ToEnvironment([1.1f, -2.3f], environment);
        Assert.Equal(-1 + (Math.Tanh(1.1) + 1) * 2, environment[0], 5);
        Assert.Equal(2 + (Math.Tanh(-2.3) + 1) * 0.25, environment[1], 5);
    }

    [Fact]
    public void Squashed_gaussian_log_determinant_stays_finite_far_out_in_the_tails()
    {
        var squashed = new SquashedGaussianDistribution([0], [1]);
        using var head = zeros(2, 1);
        using var logStd = zeros(1);
        using var u = tensor(new float[] { 40, -40 }, [2, 1]);
        var logProb = Floats(squashed.Evaluate(head, logStd, u).LogProb);
        // log(1 - tanh(40)^2) = 2 log 2 - 80 + O(e^-80); float32 would round 1 - tanh^2 to 0.
        var expected = NormalLogDensity(40, 0, 0) - (2 * Math.Log(2) - 80) - Math.Log(0.5);
        Assert.All(logProb, lp => Assert.Equal(expected, lp, 1));
        Assert.Equal(2 * Math.Log(2) - 80, SpecialFunctions.LogTanhDerivative(40), 9);
    }

    [Fact]
    public void Squashed_gaussian_density_integrates_to_one_over_the_box_and_its_entropy_matches_numerical_integration()
    {
        // One dimension on [-1, 3]: integrate in u, where p(a) da = N(u) du, on a fine grid.
        var squashed = new SquashedGaussianDistribution([-1], [3]);
        foreach (var (mean, logStd) in new[] { (0.0, 0.0), (1.5, -1.0), (-0.5, 1.0) })
        {
            const int points = 20001;
            var us = Enumerable.Range(0, points).Select(i => (float)(mean + Math.Exp(logStd) * (-9 + 18.0 * i / (points - 1)))).ToArray();
            using var head = full(points, 1, (float)mean);
            using var logStdTensor = full(1, (float)logStd);
            using var action = tensor(us, [points, 1]);
            var (logProb, entropy) = squashed.Evaluate(head, logStdTensor, action);
            var lp = Floats(logProb);
            double mass = 0, integral = 0;
            for (var i = 1; i < points; i++)
            {
                // p(a) da/du with da/du = 2 (1 - tanh(u)^2) on a box of width 4.
                double Density(int k) => Math.Exp(lp[k] + Math.Log(2) + SpecialFunctions.LogTanhDerivative(us[k]));
                var du = us[i] - us[i - 1];
                mass += 0.5 * (Density(i) + Density(i - 1)) * du;
                integral += 0.5 * (Density(i) * -lp[i] + Density(i - 1) * -lp[i - 1]) * du;
            }
            Assert.InRange(mass, 0.999, 1.001);
            // The 32-point rule's error grows with sigma: below 1e-7 at sigma 1, about 6e-4 at sigma e.
            Assert.InRange(Floats(entropy)[0] - integral, -1e-3, 1e-3);
        }
    }

    [Fact]
    public void Squashed_gaussian_samples_stay_in_the_box_and_their_host_log_prob_matches_the_update()
    {
        var squashed = new SquashedGaussianDistribution([0, -2], [1, 2]);
        var random = new SeededRandomSource(3);
        const int rows = 500;
        var head = new float[] { 0.8f, -3f };
        var logStd = new float[] { 1.5f, 0.5f };
        var stored = new float[rows * 2];
        var hostLogProbs = new double[rows];
        var environment = new float[2];
        for (var r = 0; r < rows; r++)
        {
            hostLogProbs[r] = squashed.Sample(head, logStd, random, stored.AsSpan(r * 2, 2));
            squashed.ToEnvironment(stored.AsSpan(r * 2, 2), environment);
            Assert.InRange(environment[0], 0f, 1f);
            Assert.InRange(environment[1], -2f, 2f);
        }
        using var heads = tensor(Enumerable.Repeat(head, rows).SelectMany(h => h).ToArray(), [rows, 2]);
        using var logStdTensor = tensor(logStd);
        using var actions = tensor(stored, [rows, 2]);
        var deviceLogProbs = Floats(squashed.Evaluate(heads, logStdTensor, actions).LogProb);
        Assert.Equal(hostLogProbs, deviceLogProbs.Select(x => (double)x), new DoubleTolerance(1e-4));

        var deterministic = new float[2];
        squashed.Deterministic(head, logStd, deterministic);
        Assert.Equal(head, deterministic);
        squashed.ToEnvironment(deterministic, environment);
        Assert.Equal((Math.Tanh(0.8) + 1) / 2, environment[0], 6);
        Assert.Equal(-2 + (Math.Tanh(-3) + 1) * 2, environment[1], 5);
    }

    [Fact]
    public void Beta_log_density_and_entropy_match_closed_forms_for_alpha_2_and_beta_3()
    {
        // softplus(h) + 1 = 2 and 3 for h = log(e - 1) and log(e^2 - 1).
        var h1 = (float)Math.Log(Math.E - 1);
        var h2 = (float)Math.Log(Math.E * Math.E - 1);
        var beta = new BetaDistribution([-1], [3]);
        Assert.Equal((2, 1), (beta.HeadWidth, beta.ActionWidth));
        using var head = tensor(new[] { h1, h2 }, [1, 2]);
        using var x = tensor(new float[] { 0.3f }, [1, 1]);
        var (logProb, entropy) = beta.Evaluate(head, null, x);
        // Beta(2, 3) density 12 x (1 - x)^2; on a box of width 4 the density is a quarter of it.
        Assert.Equal(Math.Log(12 * 0.3 * 0.49) - Math.Log(4), logProb.item<float>(), 5);
        // H = ln B(2, 3) - psi(2) - 2 psi(3) + 3 psi(5) = -ln 12 + 9/4 (the Euler-gamma terms cancel), plus ln 4 for the box.
        Assert.Equal(-Math.Log(12) + 2.25 + Math.Log(4), entropy.item<float>(), 5);

        // The host's formula (rollouts) at the deterministic action, the mean 2 / 5.
        var mean = new float[1];
        var logProbAtMean = beta.Deterministic([h1, h2], [], mean);
        Assert.Equal(0.4f, mean[0]);
        Assert.Equal(Math.Log(12 * 0.4 * 0.36) - Math.Log(4), logProbAtMean, 6);
    }

    [Fact]
    public void Beta_samples_stay_in_the_box_with_the_right_mean_and_variance_and_host_log_probs_match_the_update()
    {
        var h1 = (float)Math.Log(Math.E - 1);
        var h2 = (float)Math.Log(Math.E * Math.E - 1);
        var beta = new BetaDistribution([-1], [3]);
        var random = new SeededRandomSource(8);
        const int n = 20000;
        var stored = new float[n];
        var hostLogProbs = new double[n];
        var environment = new float[1];
        for (var i = 0; i < n; i++)
        {
            hostLogProbs[i] = beta.Sample([h1, h2], [], random, stored.AsSpan(i, 1));
            Assert.InRange(stored[i], (float)BetaDistribution.Margin, (float)(1 - BetaDistribution.Margin));
            beta.ToEnvironment(stored.AsSpan(i, 1), environment);
            Assert.InRange(environment[0], -1f, 3f);
            Assert.Equal(-1 + 4 * stored[i], environment[0], 5);
        }
        var mean = stored.Average(x => (double)x);
        var variance = stored.Average(x => (x - mean) * (x - mean));
        // Beta(2, 3): mean 0.4, variance 6 / (25 x 6) = 0.04; the standard error of the mean is 0.0014.
        Assert.InRange(mean, 0.395, 0.405);
        Assert.InRange(variance, 0.038, 0.042);
        using var heads = tensor(Enumerable.Repeat(new[] { h1, h2 }, 200).SelectMany(h => h).ToArray(), [200, 2]);
        using var actions = tensor(stored.Take(200).ToArray(), [200, 1]);
        Assert.Equal(hostLogProbs.Take(200), Floats(beta.Evaluate(heads, null, actions).LogProb).Select(x => (double)x), new DoubleTolerance(1e-4));
        // log std of Beta(2, 3) in box units: 0.5 log 0.04 + log 4.
        Assert.Equal(0.5 * Math.Log(0.04) + Math.Log(4), beta.MeanLogStd([h1, h2], []), 5);
    }

    [Fact]
    public void Bernoulli_log_probs_entropy_and_deterministic_ends_match_closed_forms()
    {
        // logit ln 3: p(high) = 0.75; logit -ln 3: p(high) = 0.25; logit 0: a fair coin.
        var l = (float)Math.Log(3);
        var bernoulli = new BernoulliDistribution([-1, 0, 0], [3, 1, 1]);
        Assert.Equal((3, 3), (bernoulli.HeadWidth, bernoulli.ActionWidth));
        using var head = tensor(new[] { l, -l, 0f }, [1, 3]);
        using var bits = tensor(new[] { 1f, 1f, 0f }, [1, 3]);
        var (logProb, entropy) = bernoulli.Evaluate(head, null, bits);
        Assert.Equal(Math.Log(0.75) + Math.Log(0.25) + Math.Log(0.5), logProb.item<float>(), 5);
        var h = -(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25));
        Assert.Equal(h + h + Math.Log(2), entropy.item<float>(), 5);

        // The likelier end, low on a tie; the environment gets the box's ends, never anything between.
        var action = new float[3];
        var logProbDeterministic = bernoulli.Deterministic([l, -l, 0], [], action);
        Assert.Equal([1f, 0f, 0f], action);
        Assert.Equal(Math.Log(0.75) + Math.Log(0.75) + Math.Log(0.5), logProbDeterministic, 6);
        var environment = new float[3];
        bernoulli.ToEnvironment(action, environment);
        Assert.Equal([3f, 0f, 0f], environment);
        // log of sqrt(p (1 - p)) in box units: sqrt(3/16) x 4, sqrt(3/16), sqrt(1/4).
        Assert.Equal((0.5 * Math.Log(3.0 / 16) + Math.Log(4) + 0.5 * Math.Log(3.0 / 16) + 0.5 * Math.Log(0.25)) / 3, bernoulli.MeanLogStd([l, -l, 0], []), 6);
    }

    [Fact]
    public void Bernoulli_samples_take_the_upper_end_with_probability_sigmoid_of_the_logit_and_host_log_probs_match_the_update()
    {
        var l = (float)Math.Log(3);
        var bernoulli = new BernoulliDistribution([-1], [3]);
        var random = new SeededRandomSource(8);
        const int n = 20000;
        var stored = new float[n];
        var hostLogProbs = new double[n];
        for (var i = 0; i < n; i++)
        {
            hostLogProbs[i] = bernoulli.Sample([l], [], random, stored.AsSpan(i, 1));
            Assert.True(stored[i] is 0f or 1f, $"sample {i} stored {stored[i]}");
        }
        // p = 0.75; the standard error of the frequency is 0.003.
        Assert.InRange(stored.Average(x => (double)x), 0.74, 0.76);
        using var heads = tensor(Enumerable.Repeat(l, 200).ToArray(), [200, 1]);
        using var actions = tensor(stored.Take(200).ToArray(), [200, 1]);
        Assert.Equal(hostLogProbs.Take(200), Floats(bernoulli.Evaluate(heads, null, actions).LogProb).Select(x => (double)x), new DoubleTolerance(1e-6));
    }

    [Fact]
    public void Bounded_distributions_refuse_an_unbounded_box_in_one_sentence()
    {
        var e = Assert.Throws<ArgumentException>(() => new BetaDistribution([0, float.NegativeInfinity], [1, 1]));
        Assert.Equal("distribution beta maps onto the action box, so every dimension needs finite bounds with low < high; dimension 1 is [-Infinity, 1].", e.Message);
        Assert.Throws<ArgumentException>(() => new SquashedGaussianDistribution([0], [float.PositiveInfinity]));
    }

    [Fact]
    public void A_discrete_space_is_always_categorical_and_box_distributions_on_it_are_refused()
    {
        var shape = new PolicyShape(3, ActionKind.Discrete, 4, [], []);
        Assert.Equal(ActionDistributions.Categorical, ActionDistributions.For(shape, new PpoOptions()).Name);
        var e = Assert.Throws<ArgumentException>(() => ActionDistributions.For(shape, new PpoOptions { Distribution = ActionDistributions.Beta }));
        Assert.Equal("distribution beta needs a Box action space; a Discrete(4) space always uses a categorical.", e.Message);
        Assert.Throws<ArgumentException>(() => ActionDistributions.For(shape, new PpoOptions { StateDependentStd = true }));
    }

    [Fact]
    public void Log_gamma_gauss_hermite_and_gamma_draws_match_known_values()
    {
        Assert.Equal(0, SpecialFunctions.LogGamma(1), 13);
        Assert.Equal(0, SpecialFunctions.LogGamma(2), 13);
        Assert.Equal(0.5 * Math.Log(Math.PI), SpecialFunctions.LogGamma(0.5), 13);
        Assert.Equal(Math.Log(362880), SpecialFunctions.LogGamma(10), 12);
        Assert.Equal(Math.Log(2), SpecialFunctions.Softplus(0), 15);
        Assert.Equal(50, SpecialFunctions.Softplus(50), 12);

        var (nodes, weights) = SpecialFunctions.GaussHermiteNormal(32);
        double Moment(int k) => nodes.Zip(weights).Sum(p => Math.Pow(p.First, k) * p.Second);
        Assert.Equal(1, Moment(0), 12);
        Assert.Equal(0, Moment(1), 12);
        Assert.Equal(1, Moment(2), 12);
        Assert.Equal(3, Moment(4), 11);
        Assert.Equal(945, Moment(10), 8);

        var random = new SeededRandomSource(2);
        var draws = Enumerable.Range(0, 20000).Select(_ => SpecialFunctions.Gamma(2.5, random)).ToArray();
        // Gamma(2.5, 1): mean and variance 2.5; standard errors about 0.011 and 0.037.
        var mean = draws.Average();
        Assert.InRange(mean, 2.45, 2.55);
        Assert.InRange(draws.Average(x => (x - mean) * (x - mean)), 2.35, 2.65);
    }
}

public sealed class DoubleTolerance(double tolerance) : IEqualityComparer<double>
{
    public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(x));

    public int GetHashCode(double obj) => 0;
}
