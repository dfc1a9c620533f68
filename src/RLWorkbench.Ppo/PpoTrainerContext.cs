using RLWorkbench.Gym;

namespace RLWorkbench.Ppo;

/// <summary>The trainer as its callbacks see it (<see cref="ITrainingContext"/>); kept apart from the algorithm's page.</summary>
public sealed partial class PpoTrainer : ITrainingContext
{
    public double EpisodeRewardMean => Episodes.MeanReturn;

    public double EpisodeLengthMean => Episodes.MeanLength;

    public IReadOnlyList<EvaluationEpisode> EvaluateDeterministic(IReadOnlyList<IEnv> envs, int episodes, int seed) =>
        PolicyEvaluation.Run(Policy, envs, episodes, seed);

    public void SaveCheckpoint(string path) => ToCheckpoint().Save(path);
}
