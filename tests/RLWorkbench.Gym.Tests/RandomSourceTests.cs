using RLWorkbench.Gym.Random;

namespace RLWorkbench.Gym.Tests;

public class RandomSourceTests
{
    [Fact]
    public void The_same_seed_gives_the_same_stream_and_reseeding_restarts_it()
    {
        var a = new SeededRandomSource(7);
        var b = new SeededRandomSource(7);
        var first = Enumerable.Range(0, 20).Select(_ => a.Random()).ToArray();
        Assert.Equal(first, Enumerable.Range(0, 20).Select(_ => b.Random()).ToArray());
        a.Seed(7);
        Assert.Equal(first, Enumerable.Range(0, 20).Select(_ => a.Random()).ToArray());
        Assert.NotEqual(first, Enumerable.Range(0, 20).Select(_ => new SeededRandomSource(8).Random()).ToArray());
    }

    [Fact]
    public void The_stream_is_pinned_so_results_do_not_change_between_versions()
    {
        // xoshiro256** seeded by SplitMix64 from 0, values from an independent reference implementation;
        // a change here silently changes every seeded run.
        var random = new SeededRandomSource(0);
        Assert.Equal(0.6012629994179048, random.Random(), 15);
        Assert.Equal(2, new SeededRandomSource(0).Choice(4));
    }

    [Fact]
    public void Every_draw_kind_stays_in_its_range_and_covers_it()
    {
        var random = new SeededRandomSource(3);
        var integers = new HashSet<int>();
        var choices = new HashSet<int>();
        for (var i = 0; i < 5000; i++)
        {
            var u = random.Uniform(10, 50);
            Assert.InRange(u, 10, 50);
            Assert.True(u < 50);
            var r = random.Random();
            Assert.True(r is >= 0 and < 1);
            integers.Add(random.Integer(1, 3));
            choices.Add(random.Choice(4));
        }
        Assert.Equal([1, 2], integers.Order());
        Assert.Equal([0, 1, 2, 3], choices.Order());
    }

    [Fact]
    public void Saving_and_restoring_the_state_continues_the_same_stream()
    {
        var random = new SeededRandomSource(5);
        random.Random();
        var state = random.GetState();
        var next = Enumerable.Range(0, 5).Select(_ => random.Random()).ToArray();
        var restored = new SeededRandomSource(999);
        restored.SetState(state);
        Assert.Equal(next, Enumerable.Range(0, 5).Select(_ => restored.Random()).ToArray());
    }

    [Fact]
    public void A_recording_is_replayed_value_for_value()
    {
        var recorder = new RecordingRandomSource(new SeededRandomSource(1));
        var values = new[] { recorder.Uniform(0.5, 1.0), recorder.Integer(0, 10000), recorder.Choice(4), recorder.Random() };
        var replay = new ReplayRandomSource();
        replay.Enqueue(recorder.TakeRecorded());
        Assert.Equal(values, new[] { replay.Uniform(0.5, 1.0), replay.Integer(0, 10000), replay.Choice(4), replay.Random() });
        Assert.Equal(0, replay.Remaining);
    }

    [Fact]
    public void A_replay_refuses_a_call_of_another_kind_or_with_other_arguments()
    {
        var replay = new ReplayRandomSource();
        replay.Enqueue([new RandomDraw(DrawKind.Uniform, [0.3, 1.0], 0.5), new RandomDraw(DrawKind.Choice, [4], 2)]);
        var kind = Assert.Throws<RandomReplayException>(() => replay.Random());
        Assert.Equal("draw 1: the environment called random() but the record has uniform(0.3, 1) = 0.5.", kind.Message);
        var args = Assert.Throws<RandomReplayException>(() => replay.Uniform(0.3, 0.9));
        Assert.StartsWith("draw 1: the environment called uniform(0.3, 0.9)", args.Message);
        replay.Uniform(0.3, 1.0);
        replay.Choice(4);
        Assert.Throws<RandomReplayException>(() => replay.Choice(4));
    }

    [Fact]
    public void A_replay_with_draws_left_over_says_so()
    {
        var replay = new ReplayRandomSource();
        replay.Enqueue([new RandomDraw(DrawKind.Random, [], 0.25)]);
        var e = Assert.Throws<RandomReplayException>(() => replay.ExpectExhausted("step 3"));
        Assert.Contains("fewer draws than recorded", e.Message);
    }
}
