using RLWorkbench.Gym;
using RLWorkbench.Gym.Random;
using RLWorkbench.Gym.Spaces;

namespace RLWorkbench.Ppo.Tests;

/// <summary>One step per episode: the observation is a one-hot context, reward 1 for the action with the same index.</summary>
public sealed class ContextualBandit(int contexts, int seed) : IEnv
{
    private readonly SeededRandomSource random = new(seed);
    private int context;

    public Space ObservationSpace { get; } = new Box(0, 1, contexts);

    public Space ActionSpace { get; } = new Discrete(contexts);

    public EnvInfo Info { get; } = new("correct");

    public void Reset(int? seed, Span<float> observation)
    {
        if (seed is { } s)
            random.Seed(s);
        context = random.Choice(contexts);
        observation.Clear();
        observation[context] = 1;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        var correct = (int)action[0] == context;
        Info["correct"] = correct ? 1 : 0;
        observation.Clear();
        observation[context] = 1;
        return new StepResult(correct ? 1 : 0, Terminated: true, Truncated: false);
    }

    public void Dispose() { }
}

/// <summary>One step per episode: observe a target in [-0.5, 0.5], act in the box [-1, 1], reward -(action - target)^2.</summary>
public sealed class TargetReaching(int seed) : IEnv
{
    private readonly SeededRandomSource random = new(seed);
    private float target;

    public Space ObservationSpace { get; } = new Box(-1, 1, 1);

    public Space ActionSpace { get; } = new Box(-1, 1, 1);

    public EnvInfo Info { get; } = new("error");

    public void Reset(int? seed, Span<float> observation)
    {
        if (seed is { } s)
            random.Seed(s);
        target = (float)random.Uniform(-0.5, 0.5);
        observation[0] = target;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        var error = action[0] - target;
        Info["error"] = error;
        observation[0] = target;
        return new StepResult(-error * error, Terminated: true, Truncated: false);
    }

    public void Dispose() { }
}

/// <summary>A constant observation, reward 1 per step, and a time limit that truncates (never terminates) after <paramref name="limit"/> steps.</summary>
public sealed class TimeLimited(int limit) : IEnv
{
    private int t;

    public Space ObservationSpace { get; } = new Box(-1, 1, 2);

    public Space ActionSpace { get; } = new Discrete(2);

    public EnvInfo Info { get; } = new("t");

    public void Reset(int? seed, Span<float> observation)
    {
        t = 0;
        observation[0] = 0.5f;
        observation[1] = -0.25f;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        t++;
        Info["t"] = t;
        observation[0] = 0.5f;
        observation[1] = -0.25f;
        return new StepResult(1, Terminated: false, Truncated: t >= limit);
    }

    public void Dispose() { }
}

/// <summary>
/// One step per episode on the box [0, 1]^dims, like the Phase 1 environment's box: observe a target
/// drawn uniformly from the whole box (as offset + scale x target, so observation normalisation has
/// something to undo), act, reward minus the mean squared distance to the target.
/// </summary>
public sealed class BoxTarget(int seed, int dims = 2, float offset = 0, float scale = 1) : IEnv
{
    private readonly SeededRandomSource random = new(seed);
    private readonly float[] target = new float[dims];

    public Space ObservationSpace { get; } = new Box(float.NegativeInfinity, float.PositiveInfinity, dims);

    public Space ActionSpace { get; } = new Box(0, 1, dims);

    public EnvInfo Info { get; } = new("error");

    public void Reset(int? seed, Span<float> observation)
    {
        if (seed is { } s)
            random.Seed(s);
        for (var j = 0; j < dims; j++)
            target[j] = (float)random.Random();
        Observe(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        double error = 0;
        for (var j = 0; j < dims; j++)
            error += (action[j] - target[j]) * (action[j] - target[j]);
        error /= dims;
        Info["error"] = error;
        Observe(observation);
        return new StepResult(-error, Terminated: true, Truncated: false);
    }

    private void Observe(Span<float> observation)
    {
        for (var j = 0; j < dims; j++)
            observation[j] = offset + scale * target[j];
    }

    public void Dispose() { }
}
