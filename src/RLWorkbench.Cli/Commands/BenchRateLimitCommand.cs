using System.CommandLine;
using System.Globalization;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Production;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `bench rate-limit`: issue 14's target (docs/providers.md). The same arriving tasks served on rate-limited simulated
/// providers by the greedy quality-only policy and by the same policy with the live provider state; the share of 429s
/// among the requests the providers received and the quality routed to, per seed and on average.
/// </summary>
internal static class BenchRateLimitCommand
{
    public static Command Create()
    {
        var profile = new Option<string>("--profile") { Description = "A simulation profile with a \"rateLimits\" section.", DefaultValueFactory = _ => Path.Combine("experiments", "profiles", "rate-limited.json") };
        var rate = new Option<double>("--arrivals-per-minute") { Description = "Tasks arriving per minute (Poisson) on the simulated clock.", DefaultValueFactory = _ => 30 }.Between(0.01, 100_000);
        var tasks = new Option<int>("--tasks") { Description = "Tasks served per policy and seed.", DefaultValueFactory = _ => 2000 }.Between(1, 1_000_000);
        var seeds = new Option<int>("--seeds") { Description = "Seeds 1..N (arrivals, task picks, simulated answers).", DefaultValueFactory = _ => 5 }.Between(1, 100);
        var command = new Command("rate-limit", "Greedy quality-only routing against provider-aware routing under simulated rate limits: 429 share and quality.")
        {
            profile, rate, tasks, seeds,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = new RateLimitBenchmarkOptions
            {
                Profile = result.GetValue(profile)!,
                ArrivalsPerMinute = result.GetValue(rate),
                Tasks = result.GetValue(tasks),
                Seeds = Enumerable.Range(1, result.GetValue(seeds)).Select(s => (long)s).ToArray(),
            };
            IReadOnlyList<RateLimitServing> servings;
            try
            {
                servings = await RateLimitBenchmark.RunAsync(options, cancellationToken);
            }
            catch (RoutingInputException e)
            {
                throw new UsageException(e.Message);
            }
            var output = result.InvocationConfiguration.Output;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Rate-limit benchmark: {options.Profile}, {options.ArrivalsPerMinute} tasks a minute, {options.Tasks} tasks per policy and seed, seeds 1..{options.Seeds.Count}; agent calls only, quality = the profile's expected judge quality of the action routed to"));
            output.WriteLine($"{"policy",-20} {"seed",4} {"requests",9} {"429s",6} {"429 share",10} {"quality",8} {"avoided",8} {"p95 s",7} {"minutes",8}");
            foreach (var s in servings)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Policy,-20} {s.Seed,4} {s.Attempts,9} {s.RateLimited,6} {s.RateLimitedShare * 100,9:0.00}% {s.MeanQuality,8:0.0000} {s.Avoided,8} {s.P95LatencySeconds,7:0.00} {s.SimulatedMinutes,8:0.0}"));
            var greedy = servings.Where(s => s.Policy == RateLimitBenchmark.Greedy).ToArray();
            var aware = servings.Where(s => s.Policy == RateLimitBenchmark.Aware).ToArray();
            double Share(RateLimitServing[] x) => x.Sum(s => s.RateLimited) / (double)x.Sum(s => s.Attempts);
            var greedyQuality = greedy.Average(s => s.MeanQuality);
            var awareQuality = aware.Average(s => s.MeanQuality);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"mean: greedy {Share(greedy) * 100:0.00}% 429s, quality {greedyQuality:0.0000}; provider-aware {Share(aware) * 100:0.00}% 429s, quality {awareQuality:0.0000} ({(1 - awareQuality / greedyQuality) * 100:0.00}% lost)"));
            output.WriteLine($"target (under 1% 429s, at most 2% quality lost): {(Share(aware) < 0.01 && awareQuality >= 0.98 * greedyQuality ? "met" : "not met")}");
            return CommandLine.Ok;
        });
        return command;
    }
}
