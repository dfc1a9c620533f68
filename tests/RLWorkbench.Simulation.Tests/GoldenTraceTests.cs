using RLWorkbench.Simulation.Conformance;

namespace RLWorkbench.Simulation.Tests;

public class GoldenTraceTests
{
    private static readonly IReadOnlyList<GoldenTrace> Traces = GoldenTraceFile.Load(RepositoryPaths.GoldenTraces);

    public static TheoryData<int> TraceIndexes()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Traces.Count; i++)
            data.Add(i);
        return data;
    }

    [Fact]
    public void The_shared_file_holds_all_eight_variant_and_layout_traces()
    {
        Assert.Equal(8, Traces.Count);
        Assert.Equal(2, Traces.Count(t => t.Variant == EnvironmentVariant.Base && t.Layout == ObservationLayout.Seed67));
        Assert.Equal(2, Traces.Count(t => t.Variant == EnvironmentVariant.Pool && t.Layout == ObservationLayout.Notebook94));
        Assert.All(Traces, t => Assert.Equal(200, t.Steps.Count));
    }

    [Theory]
    [MemberData(nameof(TraceIndexes))]
    public void Every_golden_trace_replays_exactly(int index)
    {
        var result = TraceReplayer.Replay(Traces[index]);
        Assert.True(result.Passed, $"{Traces[index].Describe()}: {result.Mismatch}");
    }
}
