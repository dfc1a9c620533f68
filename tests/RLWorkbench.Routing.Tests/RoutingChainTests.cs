using RLWorkbench.Routing.Core;
using Xunit;

namespace RLWorkbench.Routing.Tests;

public class RoutingChainTests
{
    [Theory]
    [InlineData(1, 8)]
    [InlineData(2, 8 + 4 * 2 * 3 * 2)]
    [InlineData(3, 8 + 48 + 4 * 3 * 2 * 8)]
    public void Every_chain_of_distinct_agents_is_enumerated_once(int maxLength, int count)
    {
        var chains = new ChainOptions { MaxLength = maxLength }.Enumerate();

        Assert.Equal(count, chains.Count);
        Assert.Equal(count, chains.Select(c => c.Label).Distinct().Count());
        Assert.All(chains, c => Assert.Equal(c.Length, c.Steps.Select(s => s.Agent).Distinct().Count()));
        // Single steps come first, in the seed's action-index order.
        Assert.Equal(RoutingAction.All, chains.Take(8).Select(c => c.First));
    }

    [Fact]
    public void A_chain_parses_from_its_label_and_names_its_handoffs()
    {
        var chain = RoutingChain.Parse(" researcher/openai > analyst/anthropic>validator/openai");

        Assert.Equal("researcher/openai>analyst/anthropic>validator/openai", chain.Label);
        Assert.Equal([(AgentRole.Researcher, AgentRole.Analyst), (AgentRole.Analyst, AgentRole.Validator)], chain.Handoffs().ToArray());
        Assert.Equal(chain, RoutingChain.Parse(chain.Label));
    }

    [Theory]
    [InlineData("researcher/openai>researcher/anthropic", "The chain 'researcher/openai>researcher/anthropic' uses the researcher agent twice; each agent appears at most once in a chain.")]
    [InlineData("writer/openai", "Unknown agent 'writer'; the agents are researcher, analyst, coder, validator.")]
    [InlineData("researcher/mistral", "Unknown provider 'mistral'; the providers are openai, anthropic.")]
    [InlineData("researcher", "The chain 'researcher' has a step 'researcher' that is not agent/provider (for example researcher/openai>validator/anthropic).")]
    [InlineData("researcher/openai>analyst/openai>coder/openai>validator/openai", "The chain 'researcher/openai>analyst/openai>coder/openai>validator/openai' has 4 steps; chains may have at most 3.")]
    public void A_bad_chain_is_one_sentence_naming_it(string text, string message)
    {
        var e = Assert.Throws<RoutingInputException>(() => RoutingChain.Parse(text));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void An_allowed_list_is_checked_against_the_longest_chain_and_for_repeats()
    {
        Assert.Equal("The chain 'researcher/openai>analyst/openai' has 2 steps; chains may have at most 1.",
            Assert.Throws<RoutingInputException>(() => new ChainOptions { Allowed = ["researcher/openai>analyst/openai"] }.Enumerate()).Message);
        Assert.Equal("The allowed chains list 'coder/openai' twice.",
            Assert.Throws<RoutingInputException>(() => new ChainOptions { Allowed = ["coder/openai", "coder/openai "] }.Enumerate()).Message);
        Assert.Equal("The longest chain must be 1 to 3 steps, not 4.",
            Assert.Throws<RoutingInputException>(() => new ChainOptions { MaxLength = 4 }.Enumerate()).Message);
    }
}
