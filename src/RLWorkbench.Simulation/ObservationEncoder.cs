namespace RLWorkbench.Simulation;

/// <summary>Writes the environment's state as the float vector of one of the two layouts (see the Phase 1 spec).</summary>
public sealed class ObservationEncoder
{
    public const int FeaturesPerAgent = 7;
    public const int FeaturesPerSlot = 5;

    public ObservationEncoder(ObservationLayout layout, int agents)
    {
        Layout = layout;
        Agents = agents;
        (VisibleSlots, Globals) = layout switch
        {
            ObservationLayout.Seed67 => (4, 3),
            ObservationLayout.Notebook94 => (10, 0),
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "allowed: seed67, notebook94."),
        };
        Size = SizeFor(layout, agents);
    }

    public ObservationLayout Layout { get; }

    public int Agents { get; }

    public int VisibleSlots { get; }

    public int Globals { get; }

    public int Size { get; }

    public static int SizeFor(ObservationLayout layout, int agents) => layout switch
    {
        ObservationLayout.Seed67 => FeaturesPerAgent * agents + 4 * FeaturesPerSlot + 3 + agents * agents,
        ObservationLayout.Notebook94 => FeaturesPerAgent * agents + 10 * FeaturesPerSlot + agents * agents,
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "allowed: seed67, notebook94."),
    };

    /// <summary>Seed67's fifth slot feature: research 0.25, analysis 0.5, execution 0.75, validation 1.0.</summary>
    public static float TypeCode(TaskType type) => ((int)type + 1) * 0.25f;

    public void Write(Span<float> obs, Agent[] agents, TaskQueue queue, int activeTasks, double[] collaboration, int t, int maxSteps)
    {
        if (obs.Length != Size)
            throw new ArgumentException($"The observation buffer holds {obs.Length} values; this layout needs {Size}.", nameof(obs));
        var k = 0;
        var elapsed = Math.Max(1, t);
        foreach (var agent in agents)
        {
            obs[k++] = (float)agent.Capacity;
            obs[k++] = (float)agent.Load;
            obs[k++] = (float)((double)agent.Completed / elapsed);
            obs[k++] = (float)agent.SuccessRate;
            obs[k++] = (float)agent.CollaborationScore;
            obs[k++] = (float)agent.Expertise[(int)TaskType.Research];
            obs[k++] = (float)agent.Expertise[(int)TaskType.Analysis];
        }
        for (var slot = 0; slot < VisibleSlots; slot++)
        {
            if (slot < queue.Count)
            {
                var task = queue[slot];
                obs[k++] = (float)task.Complexity;
                obs[k++] = (float)task.Priority;
                obs[k++] = (float)task.Deadline;
                obs[k++] = 1f;
                obs[k++] = Layout == ObservationLayout.Seed67 ? TypeCode(task.Type) : 0f;
            }
            else
            {
                obs.Slice(k, FeaturesPerSlot).Clear();
                k += FeaturesPerSlot;
            }
        }
        if (Layout == ObservationLayout.Seed67)
        {
            obs[k++] = queue.Count;
            obs[k++] = activeTasks;
            obs[k++] = (float)((double)t / maxSteps);
        }
        foreach (var value in collaboration)
            obs[k++] = (float)value;
    }
}
