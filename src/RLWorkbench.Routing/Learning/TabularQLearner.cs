using System.Globalization;
using System.Text;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Learning;

/// <summary>
/// The seed's epsilon-greedy tabular Q-learning over (state count, action count): a uniformly random action with probability
/// epsilon, else the argmax (first on ties, as numpy's); Q += lr x (reward + gamma x max Q(next) - Q), then epsilon decays
/// towards its floor. The caller says which state to bootstrap from.
/// </summary>
public sealed class TabularQLearner : TabularLearner
{
    private readonly IRandomSource random;
    private readonly double[][] values;

    public TabularQLearner(int states, int actions, QLearningOptions options, IRandomSource random)
        : base(states, actions)
    {
        Options = options;
        this.random = random;
        values = Enumerable.Range(0, states).Select(_ => new double[actions]).ToArray();
        epsilon = options.EpsilonStart;
    }

    private double epsilon;

    public QLearningOptions Options { get; }

    public override string Algorithm => RoutingAlgorithms.QLearning;

    public override long LearnedParameters => (long)StateCount * ActionCount;

    public override double Epsilon => epsilon;

    public double this[int state, int action]
    {
        get => values[state][action];
        set => values[state][action] = value;
    }

    public IReadOnlyList<double> Row(int state) => values[state];

    public double Max(int state) => values[state].Max();

    public override TabularChoice Choose(int state, double? epsilonOverride = null)
    {
        var e = epsilonOverride ?? epsilon;
        // Drawn even at epsilon 0 (route's greedy choice), as the seed's `random.random() < epsilon` is, so the stream is the seed's.
        var explore = random.Random() < e;
        return new TabularChoice(explore ? random.Choice(ActionCount) : Greedy(state), explore, e);
    }

    public override int Greedy(int state)
    {
        var row = values[state];
        var best = 0;
        for (var a = 1; a < row.Length; a++)
        {
            if (row[a] > row[best])
                best = a;
        }
        return best;
    }

    public override double Value(int state, int action) => values[state][action];

    public override void Learn(int state, int action, double reward, int nextState)
    {
        var before = values[state][action];
        var target = reward + Options.Gamma * Max(nextState);
        values[state][action] = before + Options.LearningRate * (target - before);
        epsilon = Math.Max(Options.EpsilonFloor, epsilon * Options.EpsilonDecay);
    }

    public override string DescribeExploration(int state, in TabularChoice choice) =>
        string.Create(CultureInfo.InvariantCulture, $"eps {choice.Epsilon:0.000}");

    public override LearnerState Save(IReadOnlyList<string> states, IReadOnlyList<string> actions) =>
        new(epsilon, new QTableDocument(actions.ToArray(), states.ToArray(), values.Select(r => r.ToArray()).ToArray()), null);

    public override void Restore(LearnerState saved, IReadOnlyList<string> states)
    {
        var table = saved.QTable ?? throw new RoutingInputException("The saved q-learning coordinator has no Q-table.");
        if (table.States is null || !table.States.SequenceEqual(states))
            throw new RoutingInputException("The saved Q-table's states do not match the coordinator's.");
        if (table.Values is null || table.Values.Length != StateCount || table.Values.Any(r => r is null || r.Length != ActionCount || r.Any(v => !double.IsFinite(v))))
            throw new RoutingInputException($"The saved Q-table needs one row of {ActionCount} finite values per state.");
        for (var s = 0; s < StateCount; s++)
            table.Values[s].CopyTo(values[s], 0);
        epsilon = saved.Epsilon;
    }

    public override SavedTable SaveTable(IReadOnlyList<string> states, IReadOnlyList<string> actions, string coordinator)
    {
        var json = QTable.ToJson(new QTableDocument(actions.ToArray(), states.ToArray(), values.Select(r => r.ToArray()).ToArray(), coordinator, Algorithm));
        var csv = new StringBuilder("state," + string.Join(',', actions) + "\n");
        for (var s = 0; s < StateCount; s++)
            csv.Append(states[s]).Append(',').AppendJoin(',', values[s].Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
        return new SavedTable(QTable.FileName, json, QTable.CsvFileName, csv.ToString());
    }
}
