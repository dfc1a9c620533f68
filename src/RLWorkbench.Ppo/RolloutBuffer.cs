namespace RLWorkbench.Ppo;

/// <summary>
/// SB3's RolloutBuffer on the host: one rollout of StepsPerEnv x NumEnvs transitions (observation,
/// unclipped action, reward, episode-start flag, value and log-probability), then GAE backwards over
/// it. Arrays are step-major ([step, env, ...]) and allocated once.
/// </summary>
public sealed class RolloutBuffer
{
    public RolloutBuffer(int steps, int envs, int observationSize, int actionWidth)
    {
        Steps = steps;
        Envs = envs;
        ObservationSize = observationSize;
        ActionWidth = actionWidth;
        var n = steps * envs;
        Observations = new float[n * observationSize];
        Actions = new float[n * actionWidth];
        Rewards = new float[n];
        EpisodeStarts = new float[n];
        Values = new float[n];
        LogProbs = new float[n];
        Advantages = new float[n];
        Returns = new float[n];
    }

    public int Steps { get; }

    public int Envs { get; }

    public int ObservationSize { get; }

    public int ActionWidth { get; }

    public int Count { get; private set; }

    public bool IsFull => Count == Steps;

    public float[] Observations { get; }

    public float[] Actions { get; }

    public float[] Rewards { get; }

    public float[] EpisodeStarts { get; }

    public float[] Values { get; }

    public float[] LogProbs { get; }

    public float[] Advantages { get; }

    public float[] Returns { get; }

    public int Size => Steps * Envs;

    public void Clear() => Count = 0;

    /// <summary>Adds one vector step: the observations the actions were chosen on, and what followed.</summary>
    public void Add(ReadOnlySpan<float> observations, ReadOnlySpan<float> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<float> episodeStarts, ReadOnlySpan<float> values, ReadOnlySpan<float> logProbs)
    {
        if (IsFull)
            throw new InvalidOperationException("The rollout buffer is full; compute advantages and clear it first.");
        var row = Count * Envs;
        observations.CopyTo(Observations.AsSpan(row * ObservationSize, Envs * ObservationSize));
        actions.CopyTo(Actions.AsSpan(row * ActionWidth, Envs * ActionWidth));
        rewards.CopyTo(Rewards.AsSpan(row, Envs));
        episodeStarts.CopyTo(EpisodeStarts.AsSpan(row, Envs));
        values.CopyTo(Values.AsSpan(row, Envs));
        logProbs.CopyTo(LogProbs.AsSpan(row, Envs));
        Count++;
    }

    /// <summary>
    /// GAE(gamma, lambda) backwards over the full rollout. <paramref name="lastValues"/> are the value
    /// estimates of the observations after the last step and <paramref name="lastDones"/> whether each
    /// environment's episode ended on that step (so there is nothing to bootstrap from). The episode-start
    /// flag of step t+1 cuts the sum between t and t+1. Returns = advantages + values, as in SB3.
    /// </summary>
    public void ComputeReturnsAndAdvantages(ReadOnlySpan<float> lastValues, ReadOnlySpan<bool> lastDones, double gamma, double lambda)
    {
        if (!IsFull)
            throw new InvalidOperationException($"GAE needs a full rollout; the buffer holds {Count} of {Steps} steps.");
        for (var e = 0; e < Envs; e++)
        {
            double gae = 0;
            for (var t = Steps - 1; t >= 0; t--)
            {
                double nextNonTerminal, nextValue;
                if (t == Steps - 1)
                {
                    nextNonTerminal = lastDones[e] ? 0 : 1;
                    nextValue = lastValues[e];
                }
                else
                {
                    var next = (t + 1) * Envs + e;
                    nextNonTerminal = 1.0 - EpisodeStarts[next];
                    nextValue = Values[next];
                }
                var i = t * Envs + e;
                var delta = Rewards[i] + gamma * nextValue * nextNonTerminal - Values[i];
                gae = delta + gamma * lambda * nextNonTerminal * gae;
                Advantages[i] = (float)gae;
                Returns[i] = (float)(gae + Values[i]);
            }
        }
    }

    /// <summary>1 - Var(returns - values) / Var(returns) over the rollout, NaN when the returns do not vary (SB3's explained_variance).</summary>
    public double ExplainedVariance()
    {
        var n = Size;
        double meanY = 0, meanD = 0;
        for (var i = 0; i < n; i++)
        {
            meanY += Returns[i];
            meanD += Returns[i] - Values[i];
        }
        meanY /= n;
        meanD /= n;
        double varY = 0, varD = 0;
        for (var i = 0; i < n; i++)
        {
            var y = Returns[i] - meanY;
            var d = Returns[i] - Values[i] - meanD;
            varY += y * y;
            varD += d * d;
        }
        return varY == 0 ? double.NaN : 1 - varD / varY;
    }

    /// <summary>
    /// Writes the rollout as rows of [observation, action, old log-prob, advantage, return, old value]
    /// into <paramref name="destination"/>, so the update uploads one tensor and slices columns from it.
    /// </summary>
    public void Pack(Span<float> destination)
    {
        var width = PackedWidth;
        for (var i = 0; i < Size; i++)
        {
            var row = destination.Slice(i * width, width);
            Observations.AsSpan(i * ObservationSize, ObservationSize).CopyTo(row);
            Actions.AsSpan(i * ActionWidth, ActionWidth).CopyTo(row[ObservationSize..]);
            var c = ObservationSize + ActionWidth;
            row[c] = LogProbs[i];
            row[c + 1] = Advantages[i];
            row[c + 2] = Returns[i];
            row[c + 3] = Values[i];
        }
    }

    public int PackedWidth => ObservationSize + ActionWidth + 4;
}
