using System.Diagnostics;
using RLWorkbench.Gym;
using RLWorkbench.Gym.Random;
using RLWorkbench.Gym.Spaces;
using RLWorkbench.Gym.Vector;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// SB3's PPO, top to bottom in the order it runs: collect a rollout with every environment's step in
/// one forward pass, GAE, then epochs of shuffled minibatch updates of the clipped objective. Works for
/// any <see cref="IEnv"/> factory with a Box or Discrete action space. All tensors of a run live on one
/// device; the update reads its logged scalars back to the host once per rollout.
/// </summary>
public sealed class PpoTrainer : IDisposable
{
    private readonly IVectorEnv envs;
    private readonly FlatAdam optimizer;
    private readonly RolloutBuffer buffer;
    private readonly PolicyInference rolloutInference;
    private readonly PolicyInference singleInference;
    private readonly Stopwatch clock = new();
    private double elapsedBeforeResume;

    // Host buffers of the rollout, allocated once.
    private float[] observations;
    private float[] nextObservations;
    private readonly float[] actions;
    private readonly float[] envActions;
    private readonly float[] logProbs;
    private readonly float[] values;
    private readonly double[] rewards;
    private readonly float[] bufferRewards;
    private readonly float[] episodeStarts;
    private readonly bool[] terminated;
    private readonly bool[] truncated;
    private readonly bool[] dones;

    // The update's device tensors: the packed rollout, a permutation, and the logged sums.
    private readonly float[] packed;
    private readonly long[] permutation;
    private readonly Tensor rolloutData;
    private readonly Tensor permutationTensor;
    private readonly Tensor lossSums;
    private readonly Tensor klSum;

    private bool envsStarted;

    public PpoTrainer(PpoOptions options, Func<int, IEnv> makeEnv, Device device)
    {
        if (options.Problem() is { } problem)
            throw new ArgumentException(problem, nameof(options));
        Options = options;
        Device = device;
        envs = new SyncVectorEnv([.. Enumerable.Range(0, options.NumEnvs).Select(makeEnv)]);
        Shape = PolicyShape.For(envs.SingleObservationSpace, envs.SingleActionSpace);
        Random = new SeededRandomSource(options.Seed);
        Policy = new ActorCritic(Shape, options.HiddenSizes, device, Random);
        optimizer = new FlatAdam(Policy.Parameters, options.AdamEpsilon);
        Episodes = new EpisodeTracker(options.NumEnvs);

        var n = options.NumEnvs;
        var obsSize = Shape.ObservationSize;
        buffer = new RolloutBuffer(options.StepsPerEnv, n, obsSize, Shape.ActionWidth);
        rolloutInference = new PolicyInference(Policy, n);
        singleInference = new PolicyInference(Policy, 1);
        observations = new float[n * obsSize];
        nextObservations = new float[n * obsSize];
        actions = new float[n * Shape.ActionWidth];
        envActions = new float[n * Shape.ActionWidth];
        logProbs = new float[n];
        values = new float[n];
        rewards = new double[n];
        bufferRewards = new float[n];
        episodeStarts = new float[n];
        terminated = new bool[n];
        truncated = new bool[n];
        dones = new bool[n];

        packed = new float[buffer.Size * buffer.PackedWidth];
        permutation = new long[buffer.Size];
        rolloutData = zeros([buffer.Size, buffer.PackedWidth], ScalarType.Float32, device);
        permutationTensor = zeros([buffer.Size], ScalarType.Int64, device);
        lossSums = zeros([4], ScalarType.Float32, device);
        klSum = zeros([1], ScalarType.Float32, device);
    }

    public PpoOptions Options { get; }

    public Device Device { get; }

    public PolicyShape Shape { get; }

    public ActorCritic Policy { get; }

    public FlatAdam Optimizer => optimizer;

    /// <summary>Every random draw of training (initial weights, action noise, minibatch shuffles) comes from here.</summary>
    public SeededRandomSource Random { get; }

    public EpisodeTracker Episodes { get; }

    public long TotalSteps { get; private set; }

    public int Updates { get; private set; }

    /// <summary>Wall-clock seconds of training so far, including the time before a resume.</summary>
    public double ElapsedSeconds => elapsedBeforeResume + clock.Elapsed.TotalSeconds;

    public UpdateMetrics? LastMetrics { get; private set; }

    /// <summary>Chooses the update's libtorch thread count by measuring (<see cref="ComputeDevice.AutoThreads"/>); null keeps the count set before training.</summary>
    public UpdateThreadTuner? ThreadTuner { get; set; }

    /// <summary>The last rollout (diagnostics and tests).</summary>
    public RolloutBuffer Buffer => buffer;

    /// <summary>The environments' info of the first environment, for callers that need the env's keys.</summary>
    public IVectorEnv Environments => envs;

    /// <summary>
    /// Trains until <see cref="TotalSteps"/> reaches <paramref name="totalSteps"/>, in whole rollouts as SB3
    /// does (so it may end a little past it). Returns false if cancelled; the partial rollout is then
    /// discarded and the trainer's state is that of the last finished update, ready to checkpoint.
    /// </summary>
    public bool Learn(long totalSteps, ITrainingCallback? callback = null, CancellationToken cancel = default)
    {
        callback ??= new CallbackList();
        var updateThreads = get_num_threads();
        // A forward pass over a handful of observations has nothing to split between threads, and on a
        // busy machine OpenMP's hand-offs cost more than the pass itself, so rollouts run on one thread
        // and only the update uses the configured number.
        var rolloutThreads = Device.type == DeviceType.CPU ? 1 : updateThreads;
        clock.Start();
        try
        {
            while (TotalSteps < totalSteps)
            {
                var rolloutStart = clock.Elapsed.TotalSeconds;
                var stepsBefore = TotalSteps;
                var before = (Random.GetState(), Episodes.Recent.ToArray(), Episodes.EpisodesFinished);
                set_num_threads(rolloutThreads);
                var collected = CollectRollout(callback, cancel);
                set_num_threads(updateThreads);
                if (!collected)
                {
                    Abandon(stepsBefore, before);
                    return false;
                }
                var rolloutSeconds = clock.Elapsed.TotalSeconds - rolloutStart;
                var learningRate = Options.LinearLearningRateDecay
                    ? Options.LearningRate * Math.Max(0, 1.0 - (double)TotalSteps / totalSteps)
                    : Options.LearningRate;
                var updateStart = clock.Elapsed.TotalSeconds;
                var losses = Update(learningRate, cancel);
                if (losses is null)
                {
                    Abandon(stepsBefore, before);
                    return false;
                }
                var updateSeconds = clock.Elapsed.TotalSeconds - updateStart;
                Updates++;
                LastMetrics = new UpdateMetrics(
                    TotalSteps,
                    ElapsedSeconds,
                    Episodes.MeanReturn,
                    Episodes.MeanLength,
                    losses.Value.Policy,
                    losses.Value.Value,
                    losses.Value.Entropy,
                    losses.Value.ApproxKl,
                    losses.Value.ClipFraction,
                    buffer.ExplainedVariance(),
                    LogStdMean(),
                    learningRate,
                    (TotalSteps - stepsBefore) / (rolloutSeconds + updateSeconds),
                    rolloutSeconds,
                    updateSeconds,
                    losses.Value.GradientSteps,
                    losses.Value.StoppedEarly);
                callback.OnUpdateEnd(this, LastMetrics);
            }
            return true;
        }
        finally
        {
            set_num_threads(updateThreads);
            clock.Stop();
        }
    }

    /// <summary>
    /// Winds the counters, random state and episode window back to the start of an interrupted rollout,
    /// so a checkpoint taken now describes a consistent point: the steps after it are simply redone.
    /// </summary>
    private void Abandon(long stepsBefore, (ulong[] Random, (double, int)[] Recent, long Finished) before)
    {
        TotalSteps = stepsBefore;
        Random.SetState(before.Random);
        Episodes.Restore(before.Recent, before.Finished);
        envsStarted = false;
    }

    /// <summary>
    /// Fills the rollout buffer with StepsPerEnv vector steps and computes advantages. Returns false if
    /// cancelled part-way (the partial rollout is then worthless and discarded).
    /// </summary>
    public bool CollectRollout(ITrainingCallback? callback = null, CancellationToken cancel = default)
    {
        callback ??= new CallbackList();
        if (!envsStarted)
        {
            // A resumed run continues with fresh episodes; seeding by update count keeps it reproducible without replaying the first ones.
            envs.Reset(unchecked(Options.Seed + 7919 * Updates), observations);
            Array.Fill(episodeStarts, 1f);
            envsStarted = true;
        }
        buffer.Clear();
        var n = Options.NumEnvs;
        var width = Shape.ActionWidth;
        var rolloutScope = NewDisposeScope();
        try
        {
            while (!buffer.IsFull)
            {
                rolloutInference.Act(observations, actions, logProbs, deterministic: false, Random);
                rolloutInference.Values.CopyTo(values, 0);
                ToEnvironmentActions(actions, envActions, n);
                envs.Step(envActions, nextObservations, rewards, terminated, truncated);
                TotalSteps += n;

                for (var i = 0; i < n; i++)
                {
                    dones[i] = terminated[i] || truncated[i];
                    var reward = rewards[i];
                    if (truncated[i] && !terminated[i])
                    {
                        // SB3's timeout bootstrap: a time limit is not a real end, so credit the value of where the episode was cut.
                        singleInference.PredictValues(envs.FinalObservation(i));
                        reward += Options.Gamma * singleInference.Values[0];
                    }
                    bufferRewards[i] = (float)reward;
                    if (Episodes.Record(i, rewards[i], dones[i], out var episodeReturn, out var length))
                        callback.OnEpisodeEnd(this, new FinishedEpisode(TotalSteps, i, episodeReturn, length, envs.Info(i).ToDictionary()));
                }

                buffer.Add(observations, actions.AsSpan(0, n * width), bufferRewards, episodeStarts, values, logProbs);
                (observations, nextObservations) = (nextObservations, observations);
                for (var i = 0; i < n; i++)
                    episodeStarts[i] = dones[i] ? 1f : 0f;
                callback.OnStep(this);
                if (cancel.IsCancellationRequested)
                    return false;
            }

            rolloutInference.PredictValues(observations);
            buffer.ComputeReturnsAndAdvantages(rolloutInference.Values, dones, Options.Gamma, Options.GaeLambda);
            return true;
        }
        finally
        {
            rolloutScope.Dispose();
        }
    }

    /// <summary>What the environments receive: a Box action clipped into the box (the buffer keeps it unclipped), a Discrete index as is.</summary>
    private void ToEnvironmentActions(float[] source, float[] destination, int n)
    {
        if (Shape.Kind == ActionKind.Discrete)
        {
            source.AsSpan(0, n).CopyTo(destination);
            return;
        }
        var d = Shape.ActionSize;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < d; j++)
                destination[i * d + j] = Math.Clamp(source[i * d + j], Shape.Low[j], Shape.High[j]);
        }
    }

    private readonly record struct UpdateLosses(double Policy, double Value, double Entropy, double ApproxKl, double ClipFraction, int GradientSteps, bool StoppedEarly);

    private UpdateLosses? Update(double learningRate, CancellationToken cancel)
    {
        using var entropyCoefficient = Options.EntropyCoefficient.ToScalar();
        using var valueCoefficient = Options.ValueCoefficient.ToScalar();
        buffer.Pack(packed);
        HostTransfer.CopyToDevice(packed, rolloutData);
        // A copy of the state before the update (three flat tensors, about a millisecond) lets an
        // interrupted update be undone, so a checkpoint never holds half an update.
        using var savedValues = Policy.Parameters.Values.clone();
        using var savedFirst = optimizer.FirstMoment.clone();
        using var savedSecond = optimizer.SecondMoment.clone();
        var savedSteps = optimizer.StepCount;
        lossSums.zero_();
        var obsSize = Shape.ObservationSize;
        var width = Shape.ActionWidth;
        var column = obsSize + width;
        var batchSize = Options.MinibatchSize;
        var batches = buffer.Size / batchSize;
        var gradientSteps = 0;
        var lastEpochBatches = 0;
        var stoppedEarly = false;

        for (var epoch = 0; epoch < Options.Epochs && !stoppedEarly; epoch++)
        {
            using var epochScope = NewDisposeScope();
            Shuffle(permutation);
            HostTransfer.CopyToDevice(permutation, permutationTensor);
            var shuffled = rolloutData.index_select(0, permutationTensor);
            klSum.zero_();
            lastEpochBatches = 0;
            for (var b = 0; b < batches; b++)
            {
                if (cancel.IsCancellationRequested)
                {
                    using (no_grad())
                        Policy.Parameters.Values.copy_(savedValues);
                    optimizer.RestoreFrom(savedFirst, savedSecond, savedSteps);
                    return null;
                }
                using var scope = NewDisposeScope();
                ThreadTuner?.StepStarting();
                var batch = shuffled.narrow(0, (long)b * batchSize, batchSize);
                var obs = batch.narrow(1, 0, obsSize);
                var act = batch.narrow(1, obsSize, width);
                var oldLogProb = batch.select(1, column);
                var advantages = batch.select(1, column + 1);
                var returns = batch.select(1, column + 2);
                var oldValues = batch.select(1, column + 3);

                var (logProb, entropy, value) = Policy.Evaluate(obs, act);
                if (Options.NormalizeAdvantage)
                    advantages = PpoLoss.NormalizeAdvantages(advantages);
                var (policyLoss, clipFraction, approxKl) = PpoLoss.ClippedSurrogate(logProb, oldLogProb, advantages, Options.ClipRange);
                var valueLoss = PpoLoss.ValueLoss(value, returns, oldValues, Options.ValueClipRange);
                var entropyLoss = entropy.mean().neg();
                var loss = policyLoss + entropyLoss.mul(entropyCoefficient) + valueLoss.mul(valueCoefficient);

                // Only the optional early stop reads a value back per minibatch; by default nothing leaves the device here.
                if (Options.TargetKl is { } targetKl && approxKl.item<float>() > 1.5 * targetKl)
                {
                    stoppedEarly = true;
                    break;
                }

                Policy.Parameters.ZeroGradients();
                loss.backward();
                GradientClipping.ClipGlobalNorm(Policy.Parameters.Gradients, Options.MaxGradNorm);
                optimizer.Step(learningRate);
                ThreadTuner?.StepFinished();
                gradientSteps++;
                lastEpochBatches++;

                using (no_grad())
                {
                    lossSums.add_(stack([policyLoss.detach(), valueLoss.detach(), entropyLoss.detach(), clipFraction]));
                    klSum.add_(approxKl);
                }
            }
        }

        var sums = HostTransfer.ToArray(lossSums);
        var kl = HostTransfer.ToArray(klSum)[0];
        var steps = Math.Max(gradientSteps, 1);
        return new UpdateLosses(sums[0] / steps, sums[1] / steps, sums[2] / steps,
            lastEpochBatches == 0 ? double.NaN : kl / lastEpochBatches, sums[3] / steps, gradientSteps, stoppedEarly);
    }

    /// <summary>Fisher-Yates with the trainer's random source, so a checkpoint restores the shuffle order too.</summary>
    private void Shuffle(long[] order)
    {
        for (var i = 0; i < order.Length; i++)
            order[i] = i;
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = Random.Integer(0, i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    private double LogStdMean()
    {
        if (Policy.LogStd is null)
            return double.NaN;
        using var detached = Policy.LogStd.detach();
        return HostTransfer.ToArray(detached).Average();
    }

    /// <summary>Restores what a checkpoint saved: weights, optimizer, counters, random state and the episode window.</summary>
    public void Restore(PpoCheckpoint checkpoint)
    {
        if (!checkpoint.Shape.SameAs(Shape))
            throw new InvalidDataException($"The checkpoint was trained on {checkpoint.Shape}, but this environment is {Shape}.");
        if (!checkpoint.HiddenSizes.SequenceEqual(Options.HiddenSizes))
            throw new InvalidDataException($"The checkpoint's hidden sizes [{string.Join(", ", checkpoint.HiddenSizes)}] differ from this run's [{string.Join(", ", Options.HiddenSizes)}].");
        Policy.Parameters.LoadValues(checkpoint.Parameters);
        if (checkpoint.FirstMoment is { } m && checkpoint.SecondMoment is { } v)
            optimizer.Load(m, v, checkpoint.OptimizerSteps);
        TotalSteps = checkpoint.TotalSteps;
        Updates = checkpoint.Updates;
        elapsedBeforeResume = checkpoint.ElapsedSeconds;
        clock.Reset();
        Random.SetState(checkpoint.RandomState);
        Episodes.Restore(checkpoint.RecentEpisodes, checkpoint.EpisodesFinished);
        envsStarted = false;
    }

    public PpoCheckpoint ToCheckpoint() => new(
        Shape,
        Options.HiddenSizes,
        Policy.Parameters.ValuesToArray(),
        HostTransfer.ToArray(optimizer.FirstMoment),
        HostTransfer.ToArray(optimizer.SecondMoment),
        optimizer.StepCount,
        TotalSteps,
        Updates,
        ElapsedSeconds,
        Random.GetState(),
        [.. Episodes.Recent],
        Episodes.EpisodesFinished,
        Options);

    public void Dispose()
    {
        rolloutInference.Dispose();
        singleInference.Dispose();
        rolloutData.Dispose();
        permutationTensor.Dispose();
        lossSums.Dispose();
        klSum.Dispose();
        optimizer.Dispose();
        Policy.Dispose();
        envs.Dispose();
    }
}
