using RLWorkbench.Cli;

return CommandLine.Invoke(CommandLine.Root(), args);
