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
/// A trainer either drives its own environments (<see cref="Learn"/>) or is stepped from outside, one
/// transition at a time, by a caller that owns a single stream (<see cref="Begin"/>, <see cref="Act"/>,
/// <see cref="Observe"/>): the routing comparison's PPO learner, which routes the same task stream as every
/// other learner. Both run the same step, rollout and update code.
/// </summary>
public sealed partial class PpoTrainer : IDisposable
{
    // Null when the trainer is stepped from outside.
    private readonly IVectorEnv? envs;
    private readonly FlatAdam optimizer;
    private readonly RolloutBuffer buffer;
    private readonly PolicyInference rolloutInference;
    private readonly PolicyInference singleInference;
    private readonly Stopwatch clock = new();
    private readonly RewardScaler? rewardScaler;
    private readonly IReadOnlyList<(long Offset, long Count)> policyGradients;
    private readonly IReadOnlyList<(long Offset, long Count)> valueGradients;
    private double elapsedBeforeResume;

    // The normalisers' statistics when the current rollout began, so an interrupted rollout can be undone.
    private (RunningStatistics? Observations, RunningStatistics? Returns) statisticsBeforeRollout;

    // Host buffers of the rollout, allocated once.
    private float[] observations;
    private float[] nextObservations;
    private readonly float[] actions;
    private readonly float[] envActions;
    private readonly float[] logProbs;
    private readonly float[] values;
    private readonly double[] rewards;
    private readonly double[] scaledRewards;
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

    // Stepped from outside: the steps the schedules are planned over, whether an action awaits its outcome, and where the current rollout began.
    private readonly long plannedSteps = long.MaxValue;
    private bool actionPending;
    private long stepsBeforeRollout;
    private double rolloutStartSeconds;

    // The seed's Gaussian on the CPU computes its loss gradient on the host (HostGaussianLoss); null means the tensor path.
    private readonly HostGaussianLoss? hostLoss;
    private readonly HostLossBuffers? hostGradients;

    /// <summary>A trainer that drives <see cref="PpoOptions.NumEnvs"/> environments made by <paramref name="makeEnv"/> (<see cref="Learn"/>).</summary>
    public PpoTrainer(PpoOptions options, Func<int, IEnv> makeEnv, Device device)
        : this(options, MakeEnvironments(options, makeEnv), device)
    {
    }

    /// <summary>
    /// A trainer stepped from outside on one stream with these spaces (<see cref="Begin"/>, <see cref="Act"/>,
    /// <see cref="Observe"/>), so <see cref="PpoOptions.NumEnvs"/> must be 1. <paramref name="plannedSteps"/> is what the
    /// learning-rate and entropy schedules run over; long.MaxValue keeps them at their start, as a run with no end.
    /// </summary>
    public PpoTrainer(PpoOptions options, Space observationSpace, Space actionSpace, Device device, long plannedSteps = long.MaxValue)
        : this(OneStream(options, plannedSteps), null, observationSpace, actionSpace, device)
    {
        this.plannedSteps = plannedSteps;
    }

    /// <summary>Checks the stepped-from-outside settings before anything native is allocated.</summary>
    private static PpoOptions OneStream(PpoOptions options, long plannedSteps)
    {
        if (options.Problem() is { } problem)
            throw new ArgumentException(problem, nameof(options));
        if (options.NumEnvs != 1)
            throw new ArgumentException($"A trainer stepped from outside feeds one stream, so numEnvs must be 1, not {options.NumEnvs}.", nameof(options));
        if (plannedSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(plannedSteps), plannedSteps, "The planned steps must be at least 1.");
        return options;
    }

    private PpoTrainer(PpoOptions options, IVectorEnv envs, Device device)
        : this(options, envs, envs.SingleObservationSpace, envs.SingleActionSpace, device)
    {
    }

    private static IVectorEnv MakeEnvironments(PpoOptions options, Func<int, IEnv> makeEnv)
    {
        if (options.Problem() is { } problem)
            throw new ArgumentException(problem, nameof(options));
        return new SyncVectorEnv([.. Enumerable.Range(0, options.NumEnvs).Select(makeEnv)]);
    }

    /// <summary>Both public constructors have checked the options (before making environments or anything native).</summary>
    private PpoTrainer(PpoOptions options, IVectorEnv? envs, Space observationSpace, Space actionSpace, Device device)
    {
        Options = options;
        Device = device;
        this.envs = envs;
        Shape = PolicyShape.For(observationSpace, actionSpace);
        Random = new SeededRandomSource(options.Seed);
        Policy = new ActorCritic(Shape, options, device, Random);
        optimizer = new FlatAdam(Policy.Parameters, options.AdamEpsilon);
        Episodes = new EpisodeTracker(options.NumEnvs);
        rewardScaler = options.NormalizeRewards ? new RewardScaler(options.NumEnvs, options.Gamma, options.RewardClip) : null;
        valueGradients = GroupGradientClipping.Ranges(Policy.Parameters, Policy.IsValueParameter);
        policyGradients = GroupGradientClipping.Ranges(Policy.Parameters, name => !Policy.IsValueParameter(name));

        var n = options.NumEnvs;
        var obsSize = Shape.ObservationSize;
        var width = Policy.Distribution.ActionWidth;
        buffer = new RolloutBuffer(options.StepsPerEnv, n, obsSize, width);
        rolloutInference = new PolicyInference(Policy, n);
        singleInference = new PolicyInference(Policy, 1);
        observations = new float[n * obsSize];
        nextObservations = new float[n * obsSize];
        actions = new float[n * width];
        envActions = new float[n * width];
        logProbs = new float[n];
        values = new float[n];
        rewards = new double[n];
        scaledRewards = new double[n];
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
        if (UsesHostLoss(options, Policy, device))
        {
            hostLoss = new HostGaussianLoss(options.MinibatchSize, width);
            hostGradients = new HostLossBuffers(Policy, options.MinibatchSize, width);
        }
    }

    /// <summary>
    /// The host path covers the seed's policy (a diagonal Gaussian with a free log std) on the CPU. Elsewhere the tensor
    /// path stays: other distributions have their own formulas, and on a GPU reading the outputs back every minibatch
    /// would cost more than the ops it saves.
    /// </summary>
    public static bool UsesHostLoss(PpoOptions options, ActorCritic policy, Device device) =>
        device.type == DeviceType.CPU && policy.Distribution is DiagonalGaussianDistribution { StateDependentStd: false } && !options.TensorLoss;

    /// <summary>Gathers minibatch b's stored columns from the packed rollout on the host and computes the loss and its gradients.</summary>
    private MinibatchLosses ComputeOnHost(HostGaussianLoss loss, int b, Tensor head, Tensor value, double entropyWeight)
    {
        var g = hostGradients!;
        var batchSize = loss.BatchSize;
        var width = loss.ActionWidth;
        var obsSize = Shape.ObservationSize;
        var packedWidth = buffer.PackedWidth;
        var column = obsSize + width;
        for (var i = 0; i < batchSize; i++)
        {
            var row = packed.AsSpan((int)permutation[b * batchSize + i] * packedWidth, packedWidth);
            row.Slice(obsSize, width).CopyTo(g.Actions.AsSpan(i * width, width));
            g.OldLogProb[i] = row[column];
            g.Advantages[i] = row[column + 1];
            g.Returns[i] = row[column + 2];
            g.OldValues[i] = row[column + 3];
        }
        HostTransfer.CopyToHost<float>(head, g.Head);
        HostTransfer.CopyToHost<float>(value, g.ValueOut);
        HostTransfer.CopyToHost<float>(Policy.StateIndependent!, g.LogStdValues);
        var settings = new PpoLossSettings(Options.ClipRange, Options.ValueClipRange, Options.NormalizeAdvantage, entropyWeight, Options.ValueCoefficient);
        return loss.Compute(g.Head, g.LogStdValues, g.ValueOut, g.Actions, g.OldLogProb, g.Advantages, g.Returns, g.OldValues, settings, g.Mean, g.Value, g.LogStd);
    }

    /// <summary>Hands the host loss's gradients to autograd: the means' and values' through the network, the log std's straight into its slice of the flat gradient (it takes no part in the network's graph).</summary>
    private void BackwardFromHost(Tensor head, Tensor value)
    {
        var g = hostGradients!;
        HostTransfer.CopyToDevice<float>(g.Mean, g.MeanTensor);
        HostTransfer.CopyToDevice<float>(g.Value, g.ValueTensor);
        autograd.backward([head, value], [g.MeanTensor, g.ValueTensor]);
        HostTransfer.CopyToDevice<float>(g.LogStd, g.LogStdSlice);
    }

    public PpoOptions Options { get; }

    public Device Device { get; }

    public PolicyShape Shape { get; }

    public ActorCritic Policy { get; }

    public FlatAdam Optimizer => optimizer;

    /// <summary>The running return statistics rewards are scaled by; null when rewards are used raw (the seed).</summary>
    public RewardScaler? RewardScaler => rewardScaler;

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

    /// <summary>The environments the trainer drives; null when it is stepped from outside.</summary>
    public IVectorEnv? Environments => envs;

    /// <summary>
    /// Trains until <see cref="TotalSteps"/> reaches <paramref name="totalSteps"/>, in whole rollouts as SB3
    /// does (so it may end a little past it), or until a callback decides to stop (training then ends at
    /// that step, without an update on a partial rollout). When cancelled, the partial rollout is discarded
    /// and the trainer's state is that of the last finished update, ready to checkpoint.
    /// </summary>
    public TrainingOutcome Learn(long totalSteps, ITrainingCallback? callback = null, CancellationToken cancel = default)
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
                var collected = Collect(callback, cancel);
                set_num_threads(updateThreads);
                if (collected == RolloutEnd.StoppedByCallback)
                    return TrainingOutcome.StoppedByCallback;
                if (collected == RolloutEnd.Cancelled)
                {
                    Abandon(stepsBefore, before);
                    return TrainingOutcome.Cancelled;
                }
                if (UpdateOnRollout(totalSteps, stepsBefore, clock.Elapsed.TotalSeconds - rolloutStart, cancel) is not { } metrics)
                {
                    Abandon(stepsBefore, before);
                    return TrainingOutcome.Cancelled;
                }
                if (callback.OnUpdateEnd(this, metrics) == TrainingDecision.Stop)
                    return TrainingOutcome.StoppedByCallback;
            }
            return TrainingOutcome.Completed;
        }
        finally
        {
            set_num_threads(updateThreads);
            clock.Stop();
        }
    }

    /// <summary>The update on a full rollout and its metrics (<see cref="LastMetrics"/>); null when cancelled part-way (the update is then undone).</summary>
    private UpdateMetrics? UpdateOnRollout(long totalSteps, long stepsBefore, double rolloutSeconds, CancellationToken cancel)
    {
        var progress = (double)TotalSteps / totalSteps;
        var learningRate = Options.LearningRateAt(progress);
        var updateStart = clock.Elapsed.TotalSeconds;
        var losses = Update(learningRate, Options.EntropyCoefficientAt(progress), cancel);
        if (losses is null)
            return null;
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
            losses.Value.StoppedEarly,
            ClipRange: Options.ClipRange,
            ValueClipRange: Options.ValueClipRange ?? double.NaN,
            ActionStd: ActionStd());
        return LastMetrics;
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
        RestoreStatistics(statisticsBeforeRollout);
        envsStarted = false;
    }

    private void RestoreStatistics((RunningStatistics? Observations, RunningStatistics? Returns) statistics)
    {
        if (statistics.Observations is { } observationStatistics)
            Policy.Normalizer?.Statistics.Restore(observationStatistics);
        if (statistics.Returns is { } returnStatistics)
            rewardScaler?.Statistics.Restore(returnStatistics);
    }

    /// <summary>
    /// Fills the rollout buffer with StepsPerEnv vector steps and computes advantages. Returns false if
    /// cancelled or stopped by a callback part-way (the partial rollout is then not trained on).
    /// </summary>
    public bool CollectRollout(ITrainingCallback? callback = null, CancellationToken cancel = default) =>
        Collect(callback ?? new CallbackList(), cancel) == RolloutEnd.Full;

    private enum RolloutEnd
    {
        Full,
        StoppedByCallback,
        Cancelled,
    }

    private RolloutEnd Collect(ITrainingCallback callback, CancellationToken cancel)
    {
        var environments = envs ?? throw new InvalidOperationException("This trainer is stepped from outside: call Begin, Act and Observe, not Learn.");
        statisticsBeforeRollout = (Policy.Normalizer?.Statistics.Snapshot(), rewardScaler?.Statistics.Snapshot());
        if (!envsStarted)
        {
            // A resumed run continues with fresh episodes; seeding by update count keeps it reproducible without replaying the first ones.
            environments.Reset(unchecked(Options.Seed + 7919 * Updates), observations);
            StartEpisodes();
        }
        buffer.Clear();
        var rolloutScope = NewDisposeScope();
        try
        {
            while (!buffer.IsFull)
            {
                ActOnObservations();
                environments.Step(envActions, nextObservations, rewards, terminated, truncated);
                RecordStep(callback);
                if (callback.OnStep(this) == TrainingDecision.Stop)
                    return RolloutEnd.StoppedByCallback;
                if (cancel.IsCancellationRequested)
                    return RolloutEnd.Cancelled;
            }
            FinishRollout();
            return RolloutEnd.Full;
        }
        finally
        {
            rolloutScope.Dispose();
        }
    }

    /// <summary>The first observations of fresh episodes are in <see cref="observations"/>: the normaliser takes them and every environment starts an episode.</summary>
    private void StartEpisodes()
    {
        Policy.Normalizer?.Update(observations);
        rewardScaler?.ResetReturns();
        Array.Fill(episodeStarts, 1f);
        envsStarted = true;
    }

    /// <summary>The first half of a vector step: the policy samples an action for every environment's current observation.</summary>
    private void ActOnObservations()
    {
        rolloutInference.Act(observations, actions, logProbs, deterministic: false, Random);
        rolloutInference.Values.CopyTo(values, 0);
        ToEnvironmentActions(actions, envActions, Options.NumEnvs);
    }

    /// <summary>The second half, once the environments answered (next observations, rewards and ends filled in): the transition goes into the rollout.</summary>
    private void RecordStep(ITrainingCallback callback)
    {
        var n = Options.NumEnvs;
        var width = Policy.Distribution.ActionWidth;
        TotalSteps += n;
        // As VecNormalize: the statistics take the new observations before anything (the timeout
        // bootstrap below included) is normalised with them, and rewards are scaled before the bootstrap.
        Policy.Normalizer?.Update(nextObservations);
        for (var i = 0; i < n; i++)
            dones[i] = terminated[i] || truncated[i];
        if (rewardScaler is not null)
            rewardScaler.Scale(rewards, dones, scaledRewards);
        else
            rewards.CopyTo(scaledRewards, 0);

        for (var i = 0; i < n; i++)
        {
            var reward = scaledRewards[i];
            if (truncated[i] && !terminated[i])
            {
                // SB3's timeout bootstrap: a time limit is not a real end, so credit the value of where the episode was cut.
                singleInference.PredictValues(FinalObservation(i));
                reward += Options.Gamma * singleInference.Values[0];
            }
            bufferRewards[i] = (float)reward;
            if (Episodes.Record(i, rewards[i], dones[i], out var episodeReturn, out var length))
                callback.OnEpisodeEnd(this, new FinishedEpisode(TotalSteps, i, episodeReturn, length, envs?.Info(i).ToDictionary() ?? []));
        }

        buffer.Add(rolloutInference.Inputs, actions.AsSpan(0, n * width), bufferRewards, episodeStarts, values, logProbs);
        (observations, nextObservations) = (nextObservations, observations);
        for (var i = 0; i < n; i++)
            episodeStarts[i] = dones[i] ? 1f : 0f;
    }

    /// <summary>
    /// Where environment i's episode was cut. A stream stepped from outside carries on past a truncation (routing has no
    /// natural end), so the observation it was cut at is the one it continues from.
    /// </summary>
    private ReadOnlySpan<float> FinalObservation(int i) =>
        envs is null ? nextObservations.AsSpan(i * Shape.ObservationSize, Shape.ObservationSize) : envs.FinalObservation(i);

    /// <summary>The rollout is full: bootstrap from the value of the observations it ends at and compute GAE.</summary>
    private void FinishRollout()
    {
        rolloutInference.PredictValues(observations);
        buffer.ComputeReturnsAndAdvantages(rolloutInference.Values, dones, Options.Gamma, Options.GaeLambda);
    }

    /// <summary>Stepped from outside: the first observation of the caller's stream. Call once, then Act and Observe in turn.</summary>
    public void Begin(ReadOnlySpan<float> observation)
    {
        if (envs is not null)
            throw new InvalidOperationException("This trainer drives its own environments: call Learn, not Begin.");
        if (envsStarted)
            throw new InvalidOperationException("Begin was already called; Act and Observe carry the stream on.");
        if (observation.Length != Shape.ObservationSize)
            throw new ArgumentException($"The observation has {observation.Length} values; the policy takes {Shape.ObservationSize}.", nameof(observation));
        clock.Start();
        observation.CopyTo(observations);
        StartEpisodes();
        StartExternalRollout();
    }

    /// <summary>Stepped from outside: samples an action for the current observation and returns it in the environment's form (a categorical's index as a float).</summary>
    public ReadOnlySpan<float> Act()
    {
        if (!envsStarted || envs is not null)
            throw new InvalidOperationException("Act needs a trainer stepped from outside that has begun (Begin).");
        if (actionPending)
            throw new InvalidOperationException("The last action has no outcome yet: Observe it before acting again.");
        using (NewDisposeScope())
            ActOnObservations();
        actionPending = true;
        return envActions.AsSpan(0, Policy.Distribution.ActionWidth);
    }

    /// <summary>
    /// Stepped from outside: what the last action earned and the observation the stream goes on from (after a truncation,
    /// the stream continues from it; after a termination it is the next episode's first). When the transition fills the
    /// rollout the update runs here, and its metrics are returned; otherwise null.
    /// </summary>
    public UpdateMetrics? Observe(double reward, ReadOnlySpan<float> nextObservation, bool terminated, bool truncated)
    {
        if (!actionPending)
            throw new InvalidOperationException("Observe needs an action to be the outcome of: call Act first.");
        if (nextObservation.Length != Shape.ObservationSize)
            throw new ArgumentException($"The observation has {nextObservation.Length} values; the policy takes {Shape.ObservationSize}.", nameof(nextObservation));
        rewards[0] = reward;
        nextObservation.CopyTo(nextObservations);
        this.terminated[0] = terminated;
        this.truncated[0] = truncated;
        actionPending = false;
        using (NewDisposeScope())
        {
            RecordStep(noCallbacks);
            if (!buffer.IsFull)
                return null;
            FinishRollout();
        }
        var metrics = UpdateOnRollout(plannedSteps, stepsBeforeRollout, clock.Elapsed.TotalSeconds - rolloutStartSeconds, CancellationToken.None)
            ?? throw new InvalidOperationException("An update that cannot be cancelled was cancelled.");
        StartExternalRollout();
        return metrics;
    }

    private readonly CallbackList noCallbacks = new();

    private void StartExternalRollout()
    {
        statisticsBeforeRollout = (Policy.Normalizer?.Statistics.Snapshot(), rewardScaler?.Statistics.Snapshot());
        buffer.Clear();
        stepsBeforeRollout = TotalSteps;
        rolloutStartSeconds = clock.Elapsed.TotalSeconds;
    }

    /// <summary>What the environments receive for the stored actions (the seed's Gaussian: clipped into the box, the buffer keeping them unclipped).</summary>
    private void ToEnvironmentActions(float[] source, float[] destination, int n)
    {
        var width = Policy.Distribution.ActionWidth;
        for (var i = 0; i < n; i++)
            Policy.Distribution.ToEnvironment(source.AsSpan(i * width, width), destination.AsSpan(i * width, width));
    }

    private readonly record struct UpdateLosses(double Policy, double Value, double Entropy, double ApproxKl, double ClipFraction, int GradientSteps, bool StoppedEarly);

    private UpdateLosses? Update(double learningRate, double entropyWeight, CancellationToken cancel)
    {
        using var entropyCoefficient = entropyWeight.ToScalar();
        using var valueCoefficient = Options.ValueCoefficient.ToScalar();
        // Every add passes its alpha: TorchSharp's one-argument add makes an implicit Scalar 1 the GC may free mid-call.
        using var one = 1.0.ToScalar();
        buffer.Pack(packed);
        HostTransfer.CopyToDevice(packed, rolloutData);
        // A copy of the state before the update (three flat tensors, about a millisecond) lets an
        // interrupted update be undone, so a checkpoint never holds half an update.
        using var savedValues = Policy.Parameters.Values.clone();
        using var savedFirst = optimizer.FirstMoment.clone();
        using var savedSecond = optimizer.SecondMoment.clone();
        var savedSteps = optimizer.StepCount;
        lossSums.zero_();
        var hostSums = new double[4];
        var hostKl = 0.0;
        var obsSize = Shape.ObservationSize;
        var width = Policy.Distribution.ActionWidth;
        var column = obsSize + width;
        var batchSize = Options.MinibatchSize;
        var batches = buffer.Size / batchSize;
        var gradientSteps = 0;
        var loggedBatches = 0;
        var lastEpochBatches = 0;
        var stoppedEarly = false;

        for (var epoch = 0; epoch < Options.Epochs && !stoppedEarly; epoch++)
        {
            using var epochScope = NewDisposeScope();
            Shuffle(permutation);
            HostTransfer.CopyToDevice(permutation, permutationTensor);
            var shuffled = rolloutData.index_select(0, permutationTensor);
            klSum.zero_();
            hostKl = 0;
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
                // The seed's Gaussian on the CPU takes the host loss (HostGaussianLoss): autograd then runs the network alone.
                Tensor? loss = null, head = null, valueOut = null, approxKl = null;
                var hostApproxKl = 0.0;
                if (hostLoss is not null)
                {
                    (head, valueOut) = Policy.Forward(obs);
                    var losses = ComputeOnHost(hostLoss, b, head, valueOut, entropyWeight);
                    hostSums[0] += losses.Policy;
                    hostSums[1] += losses.Value;
                    hostSums[2] += losses.EntropyLoss;
                    hostSums[3] += losses.ClipFraction;
                    hostKl += losses.ApproxKl;
                    hostApproxKl = losses.ApproxKl;
                }
                else
                {
                    var act = batch.narrow(1, obsSize, width);
                    var oldLogProb = batch.select(1, column);
                    var advantages = batch.select(1, column + 1);
                    var returns = batch.select(1, column + 2);
                    var oldValues = batch.select(1, column + 3);

                    var (logProb, entropy, value) = Policy.Evaluate(obs, act);
                    if (Options.NormalizeAdvantage)
                        advantages = PpoLoss.NormalizeAdvantages(advantages);
                    (var policyLoss, var clipFraction, approxKl) = PpoLoss.ClippedSurrogate(logProb, oldLogProb, advantages, Options.ClipRange);
                    var valueLoss = PpoLoss.ValueLoss(value, returns, oldValues, Options.ValueClipRange);
                    var entropyLoss = entropy.mean().neg();
                    loss = policyLoss.add(entropyLoss.mul(entropyCoefficient), one).add(valueLoss.mul(valueCoefficient), one);
                    using (no_grad())
                    {
                        lossSums.add_(stack([policyLoss.detach(), valueLoss.detach(), entropyLoss.detach(), clipFraction]), one);
                        klSum.add_(approxKl, one);
                    }
                }

                // As SB3, the minibatch that trips the optional early stop is still logged (losses, clip
                // fraction, approx KL) but not applied. Only this stop reads a value back per minibatch;
                // by default nothing leaves the device here.
                loggedBatches++;
                lastEpochBatches++;
                if (Options.TargetKl is { } targetKl && (approxKl is null ? hostApproxKl : approxKl.item<float>()) > 1.5 * targetKl)
                {
                    stoppedEarly = true;
                    break;
                }

                Policy.Parameters.ZeroGradients();
                if (loss is not null)
                    loss.backward();
                else
                    BackwardFromHost(head!, valueOut!);
                ClipGradients();
                optimizer.Step(learningRate);
                ThreadTuner?.StepFinished();
                gradientSteps++;
            }
        }

        var logged = Math.Max(loggedBatches, 1);
        if (hostLoss is not null)
            return new UpdateLosses(hostSums[0] / logged, hostSums[1] / logged, hostSums[2] / logged,
                hostKl / Math.Max(lastEpochBatches, 1), hostSums[3] / logged, gradientSteps, stoppedEarly);
        var sums = HostTransfer.ToArray(lossSums);
        var kl = HostTransfer.ToArray(klSum)[0];
        return new UpdateLosses(sums[0] / logged, sums[1] / logged, sums[2] / logged,
            kl / Math.Max(lastEpochBatches, 1), sums[3] / logged, gradientSteps, stoppedEarly);
    }

    private void ClipGradients()
    {
        var gradients = Policy.Parameters.Gradients;
        if (!Options.SeparateGradientClipping)
        {
            GradientClipping.ClipGlobalNorm(gradients, Options.MaxGradNorm).Dispose();
            return;
        }
        GroupGradientClipping.ClipGroupNorm(gradients, policyGradients, Options.MaxGradNormPolicy ?? Options.MaxGradNorm).Dispose();
        GroupGradientClipping.ClipGroupNorm(gradients, valueGradients, Options.MaxGradNormValue ?? Options.MaxGradNorm).Dispose();
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

    /// <summary>The policy's mean log std after the update, at the environments' current observations (the free log_std vector's mean for the seed).</summary>
    private double LogStdMean() => rolloutInference.MeanLogStd(observations);

    /// <summary>Restores what a checkpoint saved: weights, optimizer, counters, random state, the episode window and the normalisers' statistics.</summary>
    public void Restore(PpoCheckpoint checkpoint)
    {
        if (!checkpoint.Shape.SameAs(Shape))
            throw new InvalidDataException($"The checkpoint was trained on {checkpoint.Shape}, but this environment is {Shape}.");
        if (!checkpoint.HiddenSizes.SequenceEqual(Options.HiddenSizes))
            throw new InvalidDataException($"The checkpoint's hidden sizes [{string.Join(", ", checkpoint.HiddenSizes)}] differ from this run's [{string.Join(", ", Options.HiddenSizes)}].");
        var saved = PolicyDescription(checkpoint.Options, checkpoint.Distribution);
        var mine = PolicyDescription(Options, Policy.Distribution.Name);
        if (saved != mine)
            throw new InvalidDataException($"The checkpoint's policy ({saved}) differs from this run's ({mine}).");
        Policy.Parameters.LoadValues(checkpoint.Parameters);
        if (checkpoint.FirstMoment is { } m && checkpoint.SecondMoment is { } v)
            optimizer.Load(m, v, checkpoint.OptimizerSteps);
        TotalSteps = checkpoint.TotalSteps;
        Updates = checkpoint.Updates;
        elapsedBeforeResume = checkpoint.ElapsedSeconds;
        clock.Reset();
        Random.SetState(checkpoint.RandomState);
        Episodes.Restore(checkpoint.RecentEpisodes, checkpoint.EpisodesFinished);
        RestoreStatistics((checkpoint.ObservationStatistics, checkpoint.ReturnStatistics));
        envsStarted = false;
    }

    private static string PolicyDescription(PpoOptions options, string distribution) =>
        $"{distribution}{(options.StateDependentStd ? ", state-dependent std" : "")}"
        + $"{(options.NormalizeObservations ? ", normalised observations" : "")}{(options.NormalizeRewards ? ", scaled rewards" : "")}";

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
        Options,
        Policy.Distribution.Name,
        Policy.Normalizer?.Statistics.Snapshot(),
        rewardScaler?.Statistics.Snapshot());

    /// <summary>
    /// SB3's train/std: the mean of exp(log_std) over the action dimensions (not exp of the mean log_std).
    /// Only a state-independent log_std has one value per dimension; otherwise there is none to log.
    /// </summary>
    private double ActionStd()
    {
        if (Policy.StateIndependent is null)
            return double.NaN;
        using var detached = Policy.StateIndependent.detach();
        return HostTransfer.ToArray(detached).Average(v => Math.Exp(v));
    }

    public void Dispose()
    {
        rolloutInference.Dispose();
        singleInference.Dispose();
        rolloutData.Dispose();
        permutationTensor.Dispose();
        lossSums.Dispose();
        klSum.Dispose();
        hostGradients?.Dispose();
        optimizer.Dispose();
        Policy.Dispose();
        envs?.Dispose();
    }
}
