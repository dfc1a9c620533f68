using System.CommandLine;
using System.Diagnostics;
using RLWorkbench.Gym.Random;
using RLWorkbench.Ppo;
using RLWorkbench.Simulation;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `ppo bench adam`: the Adam step of the seed network alone, with its moments as a long run leaves
/// them. Weights behind dead ReLU units (and first-layer weights of always-zero observation features)
/// get exactly-zero gradients; their moments are exactly 0 early in a run and decay into the subnormal
/// range later, where they stay (a subnormal times 0.9 or 0.999 rounds back to itself). Zero and
/// subnormal inputs are what slowed MKL's sqrt, so the benchmark times the step, and the elementwise
/// operations that read each moment, on three such states. A measurement for docs/ppo.md, never a test.
/// </summary>
public static class PpoAdamBenchCommand
{
    private const float SmallestNormal = 1.17549435e-38f;

    private enum MomentState
    {
        /// <summary>Every moment an ordinary number and every gradient non-zero: the floor.</summary>
        AllNormal,

        /// <summary>As after the first rollouts: 20 % of the weights never see a gradient, their moments are exactly 0.</summary>
        FreshRun,

        /// <summary>As measured at 1M steps: 76 % of the first moment and 20 % of the second are subnormal, with zero gradients there.</summary>
        MillionSteps,
    }

    public static Command Create()
    {
        var repeats = new Option<int>("--repeats") { Description = "Timed calls per operation and state (after a warm-up).", DefaultValueFactory = _ => 500 }.Between(1, 1_000_000);
        var threads = new Option<int?>("--threads") { Description = "libtorch intra-op threads (default 1)." }.Between(1, 256);
        var command = new Command("adam", "Time the Adam step of the seed network with zero and subnormal moments, as long runs leave them.");
        command.Options.Add(repeats);
        command.Options.Add(threads);
        command.SetAction(result =>
        {
            var n = result.GetValue(repeats);
            ComputeDevice.ConfigureThreads(result.GetValue(threads));
            var output = result.InvocationConfiguration.Output;
            var options = new PpoOptions();
            using var env = new TaskEnvironment(new TaskEnvironmentOptions(), seed: 0);
            using var policy = new ActorCritic(PolicyShape.For(env.ObservationSpace, env.ActionSpace), options.HiddenSizes, CPU, new SeededRandomSource(0));
            output.WriteLine($"Adam step over {policy.Parameters.Count:N0} parameters (seed network), {n} timed calls each, libtorch threads {get_num_threads()}; microseconds per call.");
            output.WriteLine($"{"state",-16} {"Adam step",10} {"sqrt(v)",10} {"sqrt(v+min)",12} {"sqrt(max(v,floor))",19} {"m.lerp",10} {"v.addcmul",10} {"addcdiv(m)",11}");
            foreach (var state in Enum.GetValues<MomentState>())
            {
                using var adam = new FlatAdam(policy.Parameters, options.AdamEpsilon);
                Fill(state, policy.Parameters, adam, new SeededRandomSource(1));
                var m = adam.FirstMoment;
                var v = adam.SecondMoment;
                var g = policy.Parameters.Gradients;
                using var weight = tensor(1 - adam.Beta1, ScalarType.Float32);
                using var smallest = SmallestNormal.ToScalar();
                using var floor = adam.SecondMomentFloor.ToScalar();
                using var beta2 = adam.Beta2.ToScalar();
                using var secondWeight = (1 - adam.Beta2).ToScalar();
                using var stepSize = (-options.LearningRate).ToScalar();
                using var epsilon = options.AdamEpsilon.ToScalar();
                using var denominator = v.sqrt().add_(epsilon);
                using var noGrad = no_grad();
                // The out-of-place forms read the moments as the step does without changing them, so every
                // call sees the same state; the step itself keeps it because the gradients there are zero.
                var step = Time(n, () => adam.Step(options.LearningRate));
                var sqrt = Time(n, () => v.sqrt().Dispose());
                var shiftedSqrt = Time(n, () => { using var shifted = v.add(smallest); shifted.sqrt_(); });
                var flooredSqrt = Time(n, () => { using var floored = v.clamp_min(floor); floored.sqrt_(); });
                var lerp = Time(n, () => m.lerp(g, weight).Dispose());
                var addcmul = Time(n, () => { using var scaled = v.mul(beta2); scaled.addcmul_(g, g, secondWeight); });
                var addcdiv = Time(n, () => policy.Parameters.Values.addcdiv(m, denominator, stepSize).Dispose());
                output.WriteLine($"{Name(state),-16} {step,10:F1} {sqrt,10:F1} {shiftedSqrt,12:F1} {flooredSqrt,19:F1} {lerp,10:F1} {addcmul,10:F1} {addcdiv,11:F1}");
            }
            output.WriteLine($"sqrt(v): the denominator as torch's Adam computes it; sqrt(v+min): with the smallest normal float added first; "
                + $"sqrt(max(v,floor)): raised to {FlatAdam.SecondMomentFloorFor(options.AdamEpsilon, beta2: 0.999):G3} first, as FlatAdam does (MKL's sqrt is slow below about 1e-31).");
            return CommandLine.Ok;
        });
        return command;
    }

    private static string Name(MomentState state) => state switch
    {
        MomentState.AllNormal => "all normal",
        MomentState.FreshRun => "fresh run",
        _ => "after 1M steps",
    };

    /// <summary>Gradients and moments in the given state; an ordinary weight gets a gradient of about 1e-3 and moments that fit it.</summary>
    private static void Fill(MomentState state, FlatParameters parameters, FlatAdam adam, IRandomSource random)
    {
        var count = (int)parameters.Count;
        var g = new float[count];
        var m = new float[count];
        var v = new float[count];
        Gaussian.Fill(random, g);
        for (var i = 0; i < count; i++)
        {
            var u = random.Random();
            g[i] *= 1e-3f;
            m[i] = 0.3f * g[i];
            v[i] = 1e-6f * (float)(0.5 + u);
            if (state == MomentState.FreshRun && u < 0.20)
                (g[i], m[i], v[i]) = (0, 0, 0);
            else if (state == MomentState.MillionSteps && u < 0.76)
            {
                g[i] = 0;
                m[i] = Subnormal(random);
                // Log-uniform over normal floats too small to matter, 1e-30 to 1e-12.
                v[i] = u < 0.20 ? Subnormal(random) : (float)Math.Pow(10, random.Uniform(-30, -12));
            }
        }
        HostTransfer.CopyToDevice<float>(g, parameters.Gradients);
        adam.Load(m, v, stepCount: 156_000);
    }

    private static float Subnormal(IRandomSource random) => BitConverter.Int32BitsToSingle(random.Integer(1, 0x0080_0000));

    /// <summary>
    /// Mean microseconds per call, after warm-up calls for at least a quarter second: .NET compiles a
    /// method with loops unoptimised first and replaces it only after some calls and a pause, so the
    /// first calls of the managed Adam pass would otherwise be timed at a fraction of their speed.
    /// </summary>
    private static double Time(int repeats, Action call)
    {
        var warmUp = Stopwatch.StartNew();
        for (var i = 0; i < Math.Max(1, repeats / 10) || warmUp.Elapsed.TotalSeconds < 0.25; i++)
            call();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < repeats; i++)
            call();
        return 1e6 * clock.Elapsed.TotalSeconds / repeats;
    }
}
