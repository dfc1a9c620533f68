using System.Text.Json;
using System.Text.Json.Serialization;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Tests;

/// <summary>System.Text.Json's failures as a user reads them: the field's dotted path and what it takes, never a .NET type.</summary>
public class JsonProblemTests
{
    // Settable properties, as every options record has: System.Text.Json then names the leaf's type in its message.
    private sealed record Inner
    {
        public double Rate { get; init; }

        public int[] Sizes { get; init; } = [];
    }

    private sealed record Outer
    {
        public long? Seed { get; init; }

        public Inner Inner { get; init; } = new();
    }

    private static readonly JsonSerializerOptions Strict = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    [Theory]
    [InlineData("""{"seed": 1.5}""", "'seed' must be a whole number (line 1, column 13)")]
    [InlineData("{\n  \"inner\": {\"rate\": \"fast\", \"sizes\": []}\n}", "'inner.rate' must be a number (line 2, column 27)")]
    [InlineData("""{"inner": {"rate": 1, "sizes": [8, "x"]}}""", "'inner.sizes' must be a list of whole numbers (line 1, column 39)")]
    [InlineData("""{"inner": {"rate": 1, "sizes": [], "speed": 2}}""", "unknown field 'inner.speed' (line 1, column 44)")]
    [InlineData("""{"seed": }""", "'seed': '}' is an invalid start of a value (line 1, column 10)")]
    public void A_failed_read_names_the_field_and_what_it_takes(string json, string expected)
    {
        var e = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<Outer>(json, Strict));
        Assert.Equal(expected, JsonProblem.Describe(e));
    }
}
