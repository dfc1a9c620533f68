namespace RLWorkbench.Routing.Providers;

/// <summary>
/// When tasks arrive: a Poisson process of <paramref name="perMinute"/> tasks a minute on the simulated providers' clock.
/// Each gap is drawn from a stream seeded by (run seed, iteration), so a resumed run draws the same gaps and the learner's
/// own random stream is untouched.
/// </summary>
public sealed class TaskArrivals(VirtualClock clock, double perMinute, long seed)
{
    public double PerMinute => perMinute;

    /// <summary>Moves the clock to iteration <paramref name="iteration"/>'s arrival and returns the gap in seconds.</summary>
    public double Next(int iteration)
    {
        var u = new Gym.Random.SeededRandomSource(unchecked(seed * 7_368_787 + iteration * 2_654_435_761L + 11)).Random();
        var gap = TimeSpan.FromSeconds(-Math.Log(1.0 - u) * 60.0 / perMinute);
        clock.Advance(gap);
        return gap.TotalSeconds;
    }
}
