using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RLWorkbench.Routing.Core;

/// <summary>The judge's four scores in [0, 1]; ParseFailure marks the 0.5 fallback so it can be counted rather than hidden.</summary>
public sealed record JudgeVerdict(double Relevance, double Accuracy, double Completeness, double AgentMatch, string Reasoning, bool ParseFailure)
{
    public const double Fallback = 0.5;

    public double Quality => (Relevance + Accuracy + Completeness + AgentMatch) / 4.0;

    public static JudgeVerdict Failed(string why) => new(Fallback, Fallback, Fallback, Fallback, why, ParseFailure: true);

    /// <summary>
    /// A task that left nothing to judge (its chain failed part-way): no quality at all, not the parse fallback's 0.5, so a
    /// rescoring of its row credits it nothing. ParseFailure stays set: the row has no valid judgement.
    /// </summary>
    public static JudgeVerdict NotJudged(string why) => new(0, 0, 0, 0, why, ParseFailure: true);
}

/// <summary>The LLM-as-judge prompt and the strict reading of its answer.</summary>
public static partial class JudgePrompt
{
    /// <summary>The seed truncates the agent's output so a long answer cannot blow up the judge's input (and cost).</summary>
    public const int DefaultOutputChars = 2000;

    public const string SystemPrompt =
        "You grade the work of AI agents. Be critical: reserve scores above 0.8 for work that is correct, complete and clearly "
        + "suited to the task, and score vague, padded or wrong work low. Answer with one JSON object and nothing else.";

    public static string UserMessage(RoutingTask task, AgentRole role, string output, int outputChars = DefaultOutputChars)
    {
        var shown = output.Length > outputChars ? output[..outputChars] : output;
        return $$"""
            Task type: {{task.Type.Name()}}
            Agent role: {{role.Name()}}
            Task: {{task.Description}}

            Agent output:
            ---
            {{shown}}
            ---

            Score the output from 0 to 1 on each of:
            - relevance: does it address the task that was asked?
            - accuracy: is what it says correct?
            - completeness: does it cover everything the task needs?
            - agent_match: is this the kind of work a {{role.Name()}} should produce for a {{task.Type.Name()}} task?

            Reply with exactly this JSON shape:
            {"relevance": 0.0, "accuracy": 0.0, "completeness": 0.0, "agent_match": 0.0, "reasoning": "one or two sentences"}
            """;
    }

    [GeneratedRegex(@"```[A-Za-z]*[ \t]*\r?\n(?<body>.*?)```", RegexOptions.Singleline)]
    private static partial Regex FencedBlock();

    /// <summary>
    /// Strict: the whole answer, or the body of a fenced code block, must be one JSON object with the four scores as numbers
    /// in [0, 1]. Anything else gives 0.5 for every score and a parse failure; a half-read answer would bias the reward silently.
    /// </summary>
    public static JudgeVerdict Parse(string? answer)
    {
        if (string.IsNullOrWhiteSpace(answer))
            return JudgeVerdict.Failed("empty judge answer");
        var text = answer.Trim();
        var fenced = FencedBlock().Match(text);
        if (fenced.Success)
            text = fenced.Groups["body"].Value.Trim();
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                return JudgeVerdict.Failed("judge answer is not a JSON object");
            var root = doc.RootElement;
            var scores = new double[4];
            string[] names = ["relevance", "accuracy", "completeness", "agent_match"];
            for (var i = 0; i < names.Length; i++)
            {
                if (!root.TryGetProperty(names[i], out var value) || value.ValueKind != JsonValueKind.Number)
                    return JudgeVerdict.Failed($"judge answer has no numeric {names[i]}");
                var score = value.GetDouble();
                if (score is < 0 or > 1 || double.IsNaN(score))
                    return JudgeVerdict.Failed(string.Create(CultureInfo.InvariantCulture, $"judge {names[i]} {score} is outside [0, 1]"));
                scores[i] = score;
            }
            var reasoning = root.TryGetProperty("reasoning", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() ?? "" : "";
            return new JudgeVerdict(scores[0], scores[1], scores[2], scores[3], reasoning, ParseFailure: false);
        }
        catch (JsonException)
        {
            return JudgeVerdict.Failed("judge answer is not valid JSON");
        }
    }
}
