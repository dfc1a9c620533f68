using System.CommandLine;
using RLWorkbench.Experiments;
using RLWorkbench.Experiments.Sweeps;
using RLWorkbench.Ppo;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `sweep &lt;spec.json&gt;`: many runs of one experiment over a grid, random samples and seeds (docs/sweeps.md);
/// `sweep trial &lt;dir&gt; &lt;index&gt;`: the worker every backend starts for one trial; `sweep report &lt;dir&gt;`.
/// </summary>
public static class SweepCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("spec") { Description = "The sweep spec, a JSON file such as experiments/sweep-smoke.json (docs/sweeps.md)." };
        var backend = new Option<string>("--backend") { Description = "Where trials run: local (worker processes on this machine) or slurm (an sbatch array job).", DefaultValueFactory = _ => SweepBackends.Local };
        var parallel = new Option<int?>("--parallel") { Description = "Local worker processes at once (default: the spec's maxParallel, else one per core)." }.AnyNumber();
        var output = new Option<string?>("--out") { Description = "The sweep directory (default: the spec's out, else artifacts/sweeps/<name>)." };
        var plain = new Option<bool>("--plain") { Description = "Plain progress lines instead of a live display (automatic when output is redirected)." };
        var cpus = new Option<int?>("--cpus-per-task") { Description = "Slurm: CPUs per trial (default: the spec's, else 1)." }.AnyNumber();
        var mem = new Option<string?>("--mem") { Description = "Slurm: memory per trial in sbatch's notation, e.g. 2G (default: the spec's, else 2G)." };
        var time = new Option<string?>("--time") { Description = "Slurm: wall-time limit per trial, e.g. 01:00:00 (default: the spec's, else 01:00:00)." };
        var partition = new Option<string?>("--partition") { Description = "Slurm: the partition (default: the spec's, else the cluster's default)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the planned configurations and trials, then stop: nothing is run or written." };
        var sbatchArguments = new Option<string[]>("--sbatch-arg") { Description = "Slurm: a further #SBATCH argument such as --account=rl; repeat for more; added after the spec's.", AllowMultipleArgumentsPerToken = false };
        var command = new Command("sweep", "Run a sweep: one experiment over a grid, random samples and seeds, each trial an ordinary run directory.")
        {
            spec, backend, parallel, output, plain, dryRun, cpus, mem, time, partition, sbatchArguments,
        };
        command.Subcommands.Add(CreateTrial());
        command.Subcommands.Add(CreateReport());
        command.SetAction(result =>
        {
            var backendName = result.GetValue(backend)!;
            SweepBackends.Check(backendName);
            var loaded = SweepSpec.Load(result.GetValue(spec)!);
            var slurm = loaded.Slurm;
            loaded = loaded with
            {
                MaxParallel = result.GetValue(parallel) is { } n ? SweepSpec.CheckWorkers(n, "--parallel") : loaded.MaxParallel,
                Slurm = SweepSpec.SlurmOptions(
                    result.GetValue(cpus) ?? slurm.CpusPerTask,
                    result.GetValue(mem) ?? slurm.Mem,
                    result.GetValue(time) ?? slurm.Time,
                    result.GetValue(partition) ?? slurm.Partition,
                    [.. slurm.ExtraArguments, .. result.GetValue(sbatchArguments) ?? []]),
            };
            var planned = SweepPlanner.Plan(loaded, ExperimentCatalog.Default, TimeProvider.System.GetUtcNow());
            var directory = result.GetValue(output) ?? loaded.Out ?? SweepSpec.DefaultDirectory(loaded.Name);
            if (result.GetValue(dryRun))
            {
                SweepExecution.DescribePlan(planned, directory, backendName, result.InvocationConfiguration.Output);
                return CommandLine.Ok;
            }
            return SweepExecution.Run(planned, directory, backendName, result.GetValue(plain), result.InvocationConfiguration.Output, result.InvocationConfiguration.Error).ExitCode;
        });
        return command;
    }

    private static Command CreateTrial()
    {
        var directory = new Argument<string>("dir") { Description = "The sweep directory (it holds sweep.json)." };
        var index = new Argument<int>("index") { Description = "The trial's index in sweep.json (a Slurm array task id)." };
        var command = new Command("trial", "Run one trial of a sweep in this process (what the backends start; exit 0 when it finished).") { directory, index };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = result.InvocationConfiguration.Output;
            // Every signal only asks for a clean stop: on a terminal the worker gets Ctrl+C both from the
            // terminal and from its runner, and the runner's own second Ctrl+C is what kills.
            using var stop = new StopSignal(result.InvocationConfiguration.Error, "Stopping: saving the trial so the sweep can continue it...", RepeatedSignal.Ignored, cancellationToken);
            var outcome = await new SweepWorker(ExperimentCatalog.Default, TimeProvider.System)
                .RunAsync(result.GetValue(directory)!, result.GetValue(index), output, stop.Token);
            return outcome == ExperimentOutcome.Finished ? CommandLine.Ok : CommandLine.Failure;
        });
        return command;
    }

    private static Command CreateReport()
    {
        var directory = new Argument<string>("dir") { Description = "The sweep directory (it holds sweep.json)." };
        var command = new Command("report", "Summarise a sweep: every trial's configuration, seed, state and final score.") { directory };
        command.SetAction(result =>
        {
            SweepReporting.Write(result.GetValue(directory)!, result.InvocationConfiguration.Output);
            return CommandLine.Ok;
        });
        return command;
    }
}
