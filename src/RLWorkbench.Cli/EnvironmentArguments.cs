using System.CommandLine;
using RLWorkbench.Simulation;

namespace RLWorkbench.Cli;

/// <summary>The options that choose a Phase 1 environment, shared by every command that builds one.</summary>
public sealed class EnvironmentArguments
{
    public Option<string> Variant { get; } = new("--variant")
    {
        Description = "Environment variant: base (the seed's MultiAgentTaskEnvironment) or pool (its worker-pool variant).",
        DefaultValueFactory = _ => "base",
    };

    public Option<string> Layout { get; } = new("--layout")
    {
        Description = "Observation layout: seed67 (67 values, the default) or notebook94 (the notebooks' literal 94 values).",
        DefaultValueFactory = _ => "seed67",
    };

    public Option<int> Agents { get; } = new Option<int>("--agents")
    {
        Description = "Number of agents, 1 to 5.",
        DefaultValueFactory = _ => 4,
    }.AnyNumber();

    public void AddTo(Command command)
    {
        command.Options.Add(Variant);
        command.Options.Add(Layout);
        command.Options.Add(Agents);
    }

    /// <summary>The options the user asked for; a bad value becomes a usage error naming what is allowed.</summary>
    public TaskEnvironmentOptions Resolve(ParseResult result) =>
        Build(result.GetValue(Variant)!, result.GetValue(Layout)!, result.GetValue(Agents));

    /// <summary>Environment options from their command-line names (also what a ppo config file holds).</summary>
    public static TaskEnvironmentOptions Build(string variant, string layout, int agents)
    {
        try
        {
            return new TaskEnvironmentOptions
            {
                Variant = TaskEnvironmentOptions.ParseVariant(variant),
                Layout = TaskEnvironmentOptions.ParseLayout(layout),
                Agents = agents,
            }.Validated();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }
}
