namespace RLWorkbench.Simulation;

/// <summary>
/// The expertise-matching heuristic that gives PPO curves their scale: always collaborate, and hand the
/// visible queued tasks to the agents that suit them best. It reads only the seed67 observation (agent
/// blocks, queue slots with their type code), so it shows what a policy can reach from what PPO sees;
/// given <c>hiddenExpertise</c> it also knows the execution and validation expertise the observation
/// leaves out.
/// </summary>
/// <remarks>
/// The environment lets the agents with assign &gt; 0.5 pop the queue head in agent order, so the set
/// of assigning agents decides who gets which task: the k-th assigning agent takes the k-th queued task.
/// The policy tries every set (at most 2^5) and keeps the one with the largest summed suitability.
/// </remarks>
public sealed class GreedyAssignmentPolicy
{
    /// <summary>
    /// What the policy assumes for an expertise the observation does not show (execution, validation): the
    /// mean of the uniform(0.5, 1.0) draw, which the base variant never boosts for those types (the pool
    /// variant boosts its executor and validator, which the observation cannot tell).
    /// </summary>
    public const double UnseenExpertise = 0.75;

    /// <summary>
    /// Suitability lost per unit of an agent's load. Load never slows a task down (each active task
    /// draws its own completion), so this only breaks near-ties towards idle agents.
    /// </summary>
    public const double LoadWeight = 0.05;

    private const int SlotPresent = 3;
    private const int SlotTypeCode = 4;

    private readonly int agents;
    private readonly int visibleSlots;
    private readonly Func<int, TaskType, double>? hiddenExpertise;
    private readonly double[] suitability;
    private readonly int[] slotTypes;

    /// <param name="agents">Agents in the environment (1 to 5); the observation must be seed67's for that many.</param>
    /// <param name="hiddenExpertise">
    /// The agents' true expertise (agent index, task type), for the full-information variant; null for
    /// the observation-only policy.
    /// </param>
    public GreedyAssignmentPolicy(int agents, Func<int, TaskType, double>? hiddenExpertise = null)
    {
        if (agents is < TaskEnvironmentOptions.MinAgents or > TaskEnvironmentOptions.MaxAgents)
            throw new ArgumentOutOfRangeException(nameof(agents), agents, $"agents must be between {TaskEnvironmentOptions.MinAgents} and {TaskEnvironmentOptions.MaxAgents}, got {agents}.");
        this.agents = agents;
        this.hiddenExpertise = hiddenExpertise;
        var encoder = new ObservationEncoder(ObservationLayout.Seed67, agents);
        visibleSlots = encoder.VisibleSlots;
        ObservationSize = encoder.Size;
        suitability = new double[agents * visibleSlots];
        slotTypes = new int[visibleSlots];
    }

    public int ObservationSize { get; }

    /// <summary>Writes the action for a seed67 observation: assign (and allocate) 1 for the chosen agents, collaborate 1 for all.</summary>
    public void Act(ReadOnlySpan<float> observation, Span<float> action)
    {
        if (observation.Length != ObservationSize)
            throw new ArgumentException($"The observation has {observation.Length} values; the greedy policy reads the seed67 layout, {ObservationSize} values for {agents} agents.", nameof(observation));
        if (action.Length != 3 * agents)
            throw new ArgumentException($"The action has {action.Length} values; {agents} agents take {3 * agents}.", nameof(action));

        var assignees = ChooseAssignees(observation);
        for (var i = 0; i < agents; i++)
        {
            var assign = (assignees >> i & 1) == 1 ? 1f : 0f;
            action[3 * i] = assign;
            action[3 * i + 1] = assign;
            action[3 * i + 2] = 1f;
        }
    }

    /// <summary>
    /// The set of agents (bit i = agent i) whose summed suitability for the tasks they would pop is
    /// largest; ties go to the set found first, counting up from the empty set.
    /// </summary>
    public int ChooseAssignees(ReadOnlySpan<float> observation)
    {
        var tasks = ReadVisibleTasks(observation);
        if (tasks == 0)
            return 0;
        for (var i = 0; i < agents; i++)
        {
            for (var k = 0; k < tasks; k++)
                suitability[i * visibleSlots + k] = Suitability(observation, i, (TaskType)slotTypes[k]);
        }

        var best = 0;
        var bestScore = 0.0;
        for (var set = 1; set < 1 << agents; set++)
        {
            // A set larger than the visible queue would pop tasks the policy cannot see.
            if (System.Numerics.BitOperations.PopCount((uint)set) > tasks)
                continue;
            var score = 0.0;
            var k = 0;
            for (var i = 0; i < agents; i++)
            {
                if ((set >> i & 1) == 1)
                    score += suitability[i * visibleSlots + k++];
            }
            if (score > bestScore)
            {
                best = set;
                bestScore = score;
            }
        }
        return best;
    }

    /// <summary>
    /// Expertise squared times capacity times success rate, less the load term: expertise x capacity is
    /// the chance a step completes the task, expertise x success rate scales its completion reward.
    /// </summary>
    private double Suitability(ReadOnlySpan<float> observation, int agent, TaskType type)
    {
        var block = agent * ObservationEncoder.FeaturesPerAgent;
        var capacity = observation[block];
        var load = observation[block + 1];
        var successRate = observation[block + 3];
        var expertise = Expertise(observation, block, agent, type);
        return expertise * expertise * capacity * successRate - LoadWeight * load;
    }

    private double Expertise(ReadOnlySpan<float> observation, int block, int agent, TaskType type)
    {
        if (hiddenExpertise is not null)
            return hiddenExpertise(agent, type);
        return type switch
        {
            TaskType.Research => observation[block + 5],
            TaskType.Analysis => observation[block + 6],
            _ => UnseenExpertise,
        };
    }

    /// <summary>Reads the types of the queued tasks the observation shows, head first; returns how many there are.</summary>
    private int ReadVisibleTasks(ReadOnlySpan<float> observation)
    {
        var slots = agents * ObservationEncoder.FeaturesPerAgent;
        var count = 0;
        for (var s = 0; s < visibleSlots; s++)
        {
            var slot = observation.Slice(slots + s * ObservationEncoder.FeaturesPerSlot, ObservationEncoder.FeaturesPerSlot);
            if (slot[SlotPresent] != 1f)
                break;
            slotTypes[count++] = TypeFromCode(slot[SlotTypeCode]);
        }
        return count;
    }

    /// <summary>Inverts <see cref="ObservationEncoder.TypeCode"/> (0.25 research ... 1.0 validation).</summary>
    private static int TypeFromCode(float code)
    {
        var type = (int)MathF.Round(code * 4) - 1;
        if (type is < 0 or >= Agent.TaskTypeCount)
            throw new ArgumentException($"A queue slot's type code is {code}; seed67 codes are 0.25, 0.5, 0.75 and 1.0.", nameof(code));
        return type;
    }
}
