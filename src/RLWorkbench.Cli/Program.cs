using System.CommandLine;
using RLWorkbench.Cli;
using RLWorkbench.Cli.Commands;

var root = new RootCommand("RLWorkbench: reinforcement learning over a pool of LLM-backed agents (Phase 1 PPO, Phase 2 Q-learning routing).");
foreach (var command in new Command[]
{
    EnvCommand.Create(),
    BenchCommand.Create(),
    RunsCommand.Create(),
    PlotCommand.Create(),
    PpoCommand.Create(),
    EvalCommand.Create(),
    QlearnCommand.Create(),
    RouteCommand.Create(),
    CompareCommand.Create(),
    SweepCommand.Create(),
    NotebookCommand.Create(),
})
{
    root.Subcommands.Add(command);
}

return CommandLine.Invoke(root, args);
