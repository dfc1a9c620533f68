using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

public class CoreTests
{
    [Fact]
    public void Default_task_bank_holds_the_seeds_eleven_tasks()
    {
        var bank = TaskBank.Default;
        Assert.Equal(11, bank.Count);
        var expected = new (string Id, TaskType Type, double C, double P)[]
        {
            ("r1", TaskType.Research, 0.7, 0.8), ("r2", TaskType.Research, 0.5, 0.6), ("r3", TaskType.Research, 0.6, 0.7),
            ("a1", TaskType.Analysis, 0.6, 0.7), ("a2", TaskType.Analysis, 0.5, 0.8), ("a3", TaskType.Analysis, 0.7, 0.6),
            ("c1", TaskType.Coding, 0.6, 0.9), ("c2", TaskType.Coding, 0.5, 0.7), ("c3", TaskType.Coding, 0.7, 0.8),
            ("v1", TaskType.Validation, 0.3, 0.5), ("v2", TaskType.Validation, 0.4, 0.6),
        };
        Assert.Equal(expected, bank.Tasks.Select(t => (t.Id, t.Type, t.Complexity, t.Priority)).ToArray());
        Assert.Contains("TCP guarantees in-order delivery while UDP does not", bank.Find("v1").Description);
    }

    [Theory]
    [InlineData("{\"tasks\": [{\"id\": \"x\", \"type\": \"poetry\", \"description\": \"d\", \"complexity\": 0.5, \"priority\": 0.5}]}", "Unknown task type 'poetry'")]
    [InlineData("{\"tasks\": [{\"id\": \"x\", \"type\": \"coding\", \"description\": \"d\", \"complexity\": 1.5, \"priority\": 0.5}]}", "complexity and priority between 0 and 1")]
    [InlineData("{\"tasks\": []}", "has no tasks")]
    [InlineData("{\"tasks\": [", "not valid JSON")]
    public void Bad_task_banks_are_refused_with_one_sentence(string json, string expected)
    {
        var e = Assert.Throws<RoutingInputException>(() => TaskBank.Parse(json, "t.json"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Actions_are_agent_major_with_openai_before_anthropic()
    {
        string[] labels =
        [
            "researcher/openai", "researcher/anthropic", "analyst/openai", "analyst/anthropic",
            "coder/openai", "coder/anthropic", "validator/openai", "validator/anthropic",
        ];
        Assert.Equal(labels, RoutingAction.All.Select(a => a.Label));
        Assert.Equal(5, new RoutingAction(AgentRole.Coder, Provider.Anthropic).Index);
        Assert.Equal(new RoutingAction(AgentRole.Validator, Provider.OpenAI), RoutingAction.FromIndex(6));
        Assert.Throws<ArgumentOutOfRangeException>(() => RoutingAction.FromIndex(8));
    }

    [Fact]
    public void The_registered_providers_give_the_names_key_variables_default_models_and_action_count()
    {
        Assert.Equal(["openai", "anthropic"], RoutingNames.Providers.Select(p => p.Name()));
        Assert.Equal(["OPENAI_API_KEY", "ANTHROPIC_API_KEY"], RoutingNames.Providers.Select(ProviderCredentials.KeyVariable));
        Assert.Equal(["OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"], RoutingNames.Providers.Select(ProviderCredentials.BaseUrlVariable));
        Assert.Equal(new Dictionary<string, string> { ["openai"] = "gpt-4o-mini", ["anthropic"] = "claude-3-5-haiku-latest" },
            QlearnOptions.DefaultProviders().ToDictionary(kv => kv.Key, kv => kv.Value.Model));
        Assert.Equal(8, RoutingAction.Count);
        // A registered provider's default model must be priced, or its cost would silently be the unknown model's.
        Assert.All(ProviderRegistry.Entries, e => Assert.True(PriceTable.Default.Models.ContainsKey(e.DefaultModel), e.DefaultModel));
    }

    [Fact]
    public void Task_types_sort_alphabetically_as_q_table_rows()
    {
        Assert.Equal(["analysis", "coding", "research", "validation"], RoutingNames.TaskTypes.Select(t => t.Name()));
        Assert.Equal(TaskType.Coding, RoutingNames.ParseTaskType("CODING"));
        Assert.Contains("the providers are openai, anthropic", Assert.Throws<RoutingInputException>(() => RoutingNames.ParseProvider("gemini")).Message);
        Assert.Contains("Unknown agent 'poet'", Assert.Throws<RoutingInputException>(() => RoutingNames.ParseAgent("poet")).Message);
    }

    [Fact]
    public void Agent_user_message_has_the_header_then_a_blank_line_then_the_task()
    {
        var task = new RoutingTask("c1", "Write an LRU cache.", TaskType.Coding, 0.6, 0.9);
        Assert.Equal("Task type: CODING\nComplexity: 0.6\nPriority: 0.9\n\nWrite an LRU cache.", AgentPrompts.UserMessage(task));
        var rounded = new RoutingTask("x", "d", TaskType.Validation, 0.25, 0.96);
        Assert.StartsWith("Task type: VALIDATION\nComplexity: 0.3\nPriority: 1.0\n\n", AgentPrompts.UserMessage(rounded));
    }

    [Fact]
    public void Every_role_has_its_own_system_prompt()
    {
        var prompts = RoutingNames.Agents.Select(AgentPrompts.SystemPrompt).ToArray();
        Assert.Equal(4, prompts.Distinct().Count());
        Assert.Contains("checklist", AgentPrompts.SystemPrompt(AgentRole.Validator));
        Assert.Contains("pros and cons", AgentPrompts.SystemPrompt(AgentRole.Analyst));
    }

    [Fact]
    public void Judge_prompt_truncates_the_output_to_2000_characters_and_names_task_type_and_role()
    {
        var task = new RoutingTask("a1", "Pick an architecture.", TaskType.Analysis, 0.6, 0.7);
        var output = new string('x', 2500) + "TAIL";
        var prompt = JudgePrompt.UserMessage(task, AgentRole.Coder, output);
        Assert.Contains(new string('x', 2000) + "\n---", prompt);
        Assert.DoesNotContain(new string('x', 2001), prompt);
        Assert.DoesNotContain("TAIL", prompt);
        Assert.Contains("Task type: analysis", prompt);
        Assert.Contains("Agent role: coder", prompt);
        Assert.Contains("Pick an architecture.", prompt);
        Assert.Contains("critical", JudgePrompt.SystemPrompt);
    }

    [Fact]
    public void Judge_answer_as_plain_json_is_read_exactly()
    {
        var v = JudgePrompt.Parse("{\"relevance\": 0.9, \"accuracy\": 0.8, \"completeness\": 0.7, \"agent_match\": 0.6, \"reasoning\": \"fine\"}");
        Assert.False(v.ParseFailure);
        Assert.Equal((0.9, 0.8, 0.7, 0.6, "fine"), (v.Relevance, v.Accuracy, v.Completeness, v.AgentMatch, v.Reasoning));
        Assert.Equal(0.75, v.Quality, 12);
    }

    [Fact]
    public void Judge_answer_in_a_fenced_block_is_accepted()
    {
        var v = JudgePrompt.Parse("Here is my grading:\n```json\n{\"relevance\": 1, \"accuracy\": 0, \"completeness\": 0.5, \"agent_match\": 0.25}\n```\nThanks.");
        Assert.False(v.ParseFailure);
        Assert.Equal((1.0, 0.0, 0.5, 0.25, ""), (v.Relevance, v.Accuracy, v.Completeness, v.AgentMatch, v.Reasoning));
    }

    [Theory]
    [InlineData("{\"relevance\": 1.2, \"accuracy\": 0.8, \"completeness\": 0.7, \"agent_match\": 0.6}")]
    [InlineData("{\"relevance\": -0.1, \"accuracy\": 0.8, \"completeness\": 0.7, \"agent_match\": 0.6}")]
    [InlineData("{\"relevance\": \"0.9\", \"accuracy\": 0.8, \"completeness\": 0.7, \"agent_match\": 0.6}")]
    [InlineData("{\"relevance\": 0.9, \"accuracy\": 0.8, \"completeness\": 0.7}")]
    [InlineData("The answer is good, 0.8 overall.")]
    [InlineData("Sure! {\"relevance\": 0.9, \"accuracy\": 0.8, \"completeness\": 0.7, \"agent_match\": 0.6}")]
    [InlineData("[0.9, 0.8, 0.7, 0.6]")]
    [InlineData("")]
    public void Unparseable_or_out_of_range_judge_answers_give_half_for_every_score_and_a_parse_failure(string answer)
    {
        var v = JudgePrompt.Parse(answer);
        Assert.True(v.ParseFailure);
        Assert.Equal((0.5, 0.5, 0.5, 0.5), (v.Relevance, v.Accuracy, v.Completeness, v.AgentMatch));
    }

    [Fact]
    public void Composite_reward_is_quality_minus_cost_and_latency_terms_clipped()
    {
        var reward = new CompositeReward(new RewardOptions());
        var verdict = new JudgeVerdict(0.8, 0.6, 0.7, 0.9, "", false);
        // quality 0.75; cost 0.001 / 0.002 = 0.5 -> 0.05; latency 2.5 / 5 = 0.5 -> 0.025
        Assert.Equal(0.675, reward.Compute(verdict, 0.001, 2.5), 12);
        // both terms saturate at 1: 0.75 - 0.10 - 0.05
        Assert.Equal(0.60, reward.Compute(verdict, 0.05, 30), 12);
        Assert.Equal(0.0, reward.Compute(new JudgeVerdict(0.05, 0.05, 0.05, 0.05, "", false), 0.01, 10), 12);
        Assert.Equal(1.0, reward.Compute(new JudgeVerdict(1, 1, 1, 1, "", false), 0, 0), 12);
    }

    [Fact]
    public void Cost_uses_the_price_table_per_million_tokens()
    {
        var prices = PriceTable.Default;
        Assert.Equal((1000 * 0.15 + 500 * 0.60) / 1e6, prices.Cost("gpt-4o-mini", 1000, 500), 15);
        Assert.Equal((1000 * 2.50 + 500 * 10.00) / 1e6, prices.Cost("gpt-4o", 1000, 500), 15);
        Assert.Equal((1000 * 0.80 + 500 * 4.00) / 1e6, prices.Cost("claude-3-5-haiku-latest", 1000, 500), 15);
        Assert.Equal((1000 * 3.00 + 500 * 15.00) / 1e6, prices.Cost("claude-3-5-sonnet-latest", 1000, 500), 15);
        Assert.Equal((1000 * 1.00 + 500 * 3.00) / 1e6, prices.Cost("llama3.1:8b", 1000, 500), 15);
        // A dated snapshot takes its family's price, and the longest family wins (gpt-4o-mini, not gpt-4o).
        Assert.Equal(prices.PriceOf("gpt-4o-mini"), prices.PriceOf("gpt-4o-mini-2024-07-18"));
        Assert.Equal(prices.PriceOf("gpt-4o"), prices.PriceOf("gpt-4o-2024-08-06"));
    }

    [Fact]
    public void Price_table_is_data_that_can_be_replaced()
    {
        var prices = PriceTable.Parse("{\"unknown\": {\"input\": 2, \"output\": 4}, \"models\": {\"my-model\": {\"input\": 10, \"output\": 20}}}", "p.json");
        Assert.Equal(0.00004, prices.Cost("my-model", 2, 1), 15);
        Assert.Equal(0.000008, prices.Cost("gpt-4o-mini", 2, 1), 15);
        Assert.Contains("negative", Assert.Throws<RoutingInputException>(() => PriceTable.Parse("{\"unknown\": {\"input\": -1, \"output\": 4}, \"models\": {}}", "p.json")).Message);
    }
}
