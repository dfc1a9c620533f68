using System.Text.Json;
using System.Text.Json.Nodes;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>
/// The seeds of a sweep as a spec or `--seeds` writes them: "0-4", "3", "0,2,7", "0-2,10-11", or a JSON
/// list of whole numbers. Seeds are whole numbers from 0, each at most once, kept in the order written.
/// </summary>
public static class SeedList
{
    public const int MaxSeeds = 10_000;

    public static IReadOnlyList<long> Parse(JsonNode seeds) => seeds switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Parse(v.GetValue<string>()),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => Distinct([SweepSpec.WholeNumber(v, "seeds", 0, long.MaxValue)], seeds.ToJsonString()),
        JsonArray list when list.Count > 0 => Distinct(list.Select(s => s is null ? throw NotSeeds(seeds.ToJsonString()) : SweepSpec.WholeNumber(s, "each seed", 0, long.MaxValue)).ToList(), seeds.ToJsonString()),
        _ => throw NotSeeds(seeds.ToJsonString()),
    };

    public static IReadOnlyList<long> Parse(string text)
    {
        var seeds = new List<long>();
        foreach (var part in text.Split(','))
        {
            var range = part.Trim();
            // From the second character, so "-1" reads as a (refused) negative seed rather than a range.
            var dash = range.IndexOf('-', Math.Min(1, range.Length));
            if (dash <= 0)
            {
                seeds.Add(Seed(range, text));
                continue;
            }
            var low = Seed(range[..dash], text);
            var high = Seed(range[(dash + 1)..], text);
            if (high < low)
                throw new ExperimentConfigException(range == text.Trim()
                    ? $"seeds '{text}' is a backwards range; write the lower seed first ('{high}-{low}')."
                    : $"seeds '{text}' has the backwards range '{range}'; write the lower seed first ('{high}-{low}').");
            if (high - low >= MaxSeeds)
                throw new ExperimentConfigException($"seeds '{text}' names more than {MaxSeeds:N0} seeds.");
            for (var s = low; s <= high; s++)
                seeds.Add(s);
        }
        return Distinct(seeds, text);
    }

    private static long Seed(string text, string whole) =>
        long.TryParse(text.Trim(), System.Globalization.NumberStyles.None, null, out var seed) ? seed : throw NotSeeds(whole);

    private static List<long> Distinct(List<long> seeds, string written)
    {
        if (seeds.Count > MaxSeeds)
            throw new ExperimentConfigException($"seeds '{written}' names more than {MaxSeeds:N0} seeds.");
        var seen = new HashSet<long>();
        foreach (var s in seeds)
        {
            if (!seen.Add(s))
                throw new ExperimentConfigException($"seeds '{written}' names seed {s} twice.");
        }
        return seeds;
    }

    private static ExperimentConfigException NotSeeds(string written) =>
        new($"seeds '{written}' is not a list of seeds; write a range such as '0-4', one seed such as '3', seeds and ranges such as '0,2,7-9', or a JSON list of whole numbers from 0.");
}
