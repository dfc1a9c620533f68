namespace RLWorkbench.Cli.Tests;

/// <summary>
/// Issue 12's hostile inputs, in process: each is exit code 2 with one sentence naming the value and what is allowed,
/// no .NET type or stack in sight, and nothing written (the run directory --out names is never created).
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("rlw-bad-input-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string Out => Path.Combine(directory, "run");

    private string File(string name, string contents)
    {
        var path = Path.Combine(directory, name);
        System.IO.File.WriteAllText(path, contents);
        return path;
    }

    /// <summary>Runs rlw in process; placeholders: OUT (the run directory), DIR/ (an existing directory), FILE:name:contents.</summary>
    private (int Code, string Error) Invoke(string[] args)
    {
        var resolved = args.Select(a => a switch
        {
            "OUT" => Out,
            "DIR/" => directory + "/",
            _ when a.StartsWith("FILE:", StringComparison.Ordinal) => File(a.Split(':')[1], a[(a.IndexOf(':', 5) + 1)..]),
            _ => a,
        }).ToArray();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CommandLine.Invoke(CommandLine.Root(), resolved, output, error);
        return (code, error.ToString().Replace(directory, "<dir>", StringComparison.Ordinal));
    }

    public static TheoryData<string[], string> Cases => new()
    {
        // Non-finite and absurd numbers (section 2, fault 7).
        { ["qlearn", "--budget-usd", "NaN", "--out", "OUT"], "--budget-usd must be a finite number, got 'NaN'." },
        { ["qlearn", "--simulated-call-seconds", "1e300", "--out", "OUT"], "'simulatedCallSeconds' must be a number from 0 to 3,600, got 1E+300." },
        { ["qlearn", "--set", "resilience.attemptTimeoutSeconds=-1", "--out", "OUT"], "'resilience.attemptTimeoutSeconds' must be a number from 0.01 to 86,400, got -1." },
        { ["qlearn", "--set", "resilience.attemptTimeoutSeconds=1e308", "--out", "OUT"], "'resilience.attemptTimeoutSeconds' must be a number from 0.01 to 86,400, got 1E+308." },
        { ["qlearn", "--set", "resilience.attemptTimeoutSeconds=1e400", "--out", "OUT"], "'resilience.attemptTimeoutSeconds' must be a finite number, got 1e400." },
        { ["qlearn", "--iterations", "1e8", "--out", "OUT"], "'iterations' must be a whole number from 1 to 1,000,000, got 100000000." },
        { ["qlearn", "--iterations", "2.5", "--out", "OUT"], "--iterations must be a whole number, got '2.5'." },
        { ["ppo", "--seed", "99999999999", "--out", "OUT"], "--seed must be a whole number from -2,147,483,648 to 2,147,483,647, got '99999999999'." },
        { ["qlearn", "--iterations", "100000000", "--out", "OUT"], "'iterations' must be a whole number from 1 to 1,000,000, got 100000000." },
        { ["compare", "--first-seed", "2147483647", "--seeds", "2", "--out", "OUT"], "firstSeed 2147483647 with 2 seeds would use seeds up to 2147483648; firstSeed must be at least -2,147,483,648 and firstSeed + seeds - 1 at most 2,147,483,647." },
        { ["compare", "--budget-usd", "Infinity", "--real", "--out", "OUT"], "--budget-usd must be a finite number, got 'Infinity'." },
        { ["ppo", "--steps", "1e12", "--out", "OUT"], "steps must be between 1 and 10,000,000,000, got 1000000000000." },
        { ["ppo", "--set", "evalEverySteps=-1", "--out", "OUT"], "evalEverySteps must be 0 (no periodic evaluation) or a step count up to 10,000,000,000, got -1." },
        // A resumed qlearn run continues its saved settings: an option it would drop silently (a hard budget) is refused.
        { ["qlearn", "--resume", "OUT", "--iterations", "40", "--budget-usd", "0.5"], "--resume continues with the run's saved configuration, so --budget-usd cannot be given with it; change a saved setting with --set (for example --set budgetUsd=0.5)." },
        { ["qlearn", "--resume", "OUT", "--concurrency", "0"], "--resume continues with the run's saved configuration, so --concurrency cannot be given with it; change a saved setting with --set (for example --set budgetUsd=0.5)." },
        { ["qlearn", "--resume", "OUT", "--real"], "--resume continues with the run's saved configuration, so --real cannot be given with it; change a saved setting with --set (for example --set budgetUsd=0.5)." },
        // Chains (issue 13): a repeated agent, an unknown agent or provider, a chain too long, checked before any call.
        { ["qlearn", "--chains", "researcher/openai>researcher/anthropic", "--out", "OUT"], "The chain 'researcher/openai>researcher/anthropic' uses the researcher agent twice; each agent appears at most once in a chain." },
        { ["qlearn", "--chains", "researcher/openai>wizard/openai", "--out", "OUT"], "Unknown agent 'wizard'; the agents are researcher, analyst, coder, validator." },
        { ["qlearn", "--chains", "coder/openai>validator/mistral", "--out", "OUT"], "Unknown provider 'mistral'; the providers are openai, anthropic." },
        { ["qlearn", "--chains", "researcher/openai>analyst/openai>coder/openai>validator/openai", "--out", "OUT"], "The chain 'researcher/openai>analyst/openai>coder/openai>validator/openai' has 4 steps; chains may have at most 3." },
        { ["qlearn", "--chains", "4", "--out", "OUT"], "--chains 4: the longest chain must be 1 to 3 steps." },
        { ["qlearn", "--chains", "2", "--load-balanced", "--out", "OUT"], "Chains are routed by the base coordinator (state = task type); the load-balanced coordinator routes single agents, so leave out --load-balanced or the chains." },
        { ["qlearn", "--set", "chains.allowed=[\"coder/openai>coder/anthropic\"]", "--set", "chains.maxLength=2", "--out", "OUT"], "The chain 'coder/openai>coder/anthropic' uses the coder agent twice; each agent appears at most once in a chain." },
        // Weights (issue 14): unknown objectives, negative, non-finite, all zero, repeated; on the command line, in a file, by --set.
        { ["qlearn", "--weights", "quality=1,speed=2", "--out", "OUT"], "Unknown objective 'speed' in the weights 'quality=1,speed=2'; the objectives are quality, cost, latency and fairness." },
        { ["qlearn", "--weights", "quality=-1", "--out", "OUT"], "The weight of quality must be a finite number of at least 0, not '-1'." },
        { ["qlearn", "--weights", "quality=NaN", "--out", "OUT"], "The weight of quality must be a finite number of at least 0, not 'NaN'." },
        { ["qlearn", "--weights", "quality=0,cost=0", "--out", "OUT"], "The weights 'quality=0,cost=0' are all zero; give at least one objective a positive weight." },
        { ["qlearn", "--weights", "quality", "--out", "OUT"], "'quality' in the weights 'quality' is not objective=weight; write them as quality=1,cost=20,latency=0.05,fairness=0.1." },
        { ["qlearn", "--set", "weights=latency=1e999", "--out", "OUT"], "The weight of latency must be a finite number of at least 0, not '1e999'." },
        { ["qlearn", "--config", "FILE:w.json:{\"weights\": {\"quality\": 1, \"cost\": -2}}", "--out", "OUT"], "The weight of cost must be a finite number of at least 0, not -2." },
        { ["qlearn", "--resume", "OUT", "--weights", "quality=1"], "--resume continues with the run's saved configuration, so --weights cannot be given with it; change a saved setting with --set (for example --set budgetUsd=0.5)." },
        { ["runs", "rescore", "OUT", "--weights", "quality=1,Quality=2"], "The objective quality is weighted twice in the weights 'quality=1,Quality=2'; give each objective at most once." },
        // The composed learner's settings (qlearn's "composed" section).
        { ["qlearn", "--learner", "composed", "--set", "composed.noise=0", "--out", "OUT"], "'composed.noise' must be a positive number, got 0." },
        { ["qlearn", "--learner", "composed", "--set", "composed.exploration=-1", "--out", "OUT"], "'composed.exploration' must be a non-negative number, got -1." },
        { ["qlearn", "--set", "state=load", "--out", "OUT"], "Unknown state 'load'; the states are coordinator (the coordinator's own) and health (with the providers' health)." },
        { ["qlearn", "--set", "arrivalsPerMinute=30", "--out", "OUT"], "arrivalsPerMinute needs a simulation profile with a \"rateLimits\" section (for example experiments/profiles/rate-limited.json): without limits, when tasks arrive changes nothing." },
        { ["route", "a task", "--type", "coding", "--qtable", "q.json", "--weights", "quality=1"], "--weights says what --learn learns; give --learn with it, or leave it out." },
        { ["route", "a task", "--type", "coding", "--qtable", "q.json", "--learn", "--weights", "cost=-1"], "The weight of cost must be a finite number of at least 0, not '-1'." },
        // Null sections.
        { ["ppo", "--config", "FILE:ppo.json:{\"ppo\": null}", "--out", "OUT"], "'ppo' cannot be null; leave it out for its defaults, or set its settings (ppo.numEnvs, ppo.stepsPerEnv, ppo.minibatchSize, ...)." },
        { ["qlearn", "--config", "FILE:q.json:{\"resilience\": null}", "--out", "OUT"], "'resilience' cannot be null; leave it out for its defaults, or set its settings (resilience.maxRetries, resilience.baseDelaySeconds, resilience.maxDelaySeconds, ...)." },
        { ["compare", "--config", "FILE:c.json:{\"ppo\": null}", "--out", "OUT"], "'ppo' cannot be null; leave it out for its defaults, or set its settings (ppo.trainer, ppo.seedTrainer, ppo.seedNetwork, ...)." },
        // Unbounded counts get limits like eval --episodes has.
        { ["route", "a task", "--type", "coding", "--qtable", "q.json", "--repeat", "1e8"], "--repeat must be a whole number from 1 to 10,000, got '1e8'." },
        { ["route", "a task", "--type", "coding", "--qtable", "q.json", "--repeat", "100000000"], "--repeat must be a whole number from 1 to 10,000, got '100000000'." },
        { ["env", "run", "--episodes", "2e9", "--out", "OUT"], "--episodes must be a whole number from 1 to 100,000, got '2e9'." },
        { ["env", "run", "--episodes", "3", "--seed", "2147483647", "--out", "OUT"], "--seed 2147483647 with --episodes 3 would give the last episode seed 2147483649; --seed + --episodes - 1 must be at most 2,147,483,647." },
        { ["bench", "env", "--seconds", "1e9"], "--seconds must be a number from 0.01 to 3,600, got '1e9'." },
        { ["bench", "env", "--envs", "0"], "--envs must be a whole number from 1 to 1,024, got '0'." },
        { ["eval", "--model", "m.bin", "--episodes", "1e6"], "--episodes must be a whole number from 1 to 100,000, got '1e6'." },
        { ["ppo", "bench", "--threads", "0"], "--threads must be a whole number from 1 to 256, got '0'." },
        // A directory where a file is expected (fault 8): refused before the run starts or a call is made.
        { ["qlearn", "--record", "DIR/", "--out", "OUT"], "record '<dir>/' is a directory; give a file name such as <dir>/cassette.jsonl." },
        { ["compare", "--record", "DIR/", "--learner", "random", "--out", "OUT"], "record '<dir>/' is a directory; give a file name such as <dir>/cassette.jsonl." },
        { ["route", "a task", "--type", "coding", "--qtable", "q.json", "--save-qtable", "DIR/"], "--save-qtable '<dir>/' is a directory; give a file name such as <dir>/qtable.json." },
        // A directory where an input file is expected is named as one, not as missing.
        { ["qlearn", "--replay", "DIR/", "--out", "OUT"], "The cassette '<dir>/' is a directory, not a file." },
        { ["eval", "--model", "DIR/"], "model '<dir>/' is a directory, not a file." },
        { ["qlearn", "--config", "DIR/", "--out", "OUT"], "config file '<dir>/' is a directory, not a file; give a JSON file such as experiments/qlearn.json." },
        // Configuration errors name the setting, never a .NET type (section 3).
        { ["route", "a task", "--type", "coding", "--qtable", "FILE:chains.json:{\"actions\": [\"coder/openai\", \"coder/openai>wizard/openai\"], \"states\": [\"analysis\", \"coding\", \"research\", \"validation\"], \"values\": [[0, 0], [0, 0], [0, 0], [0, 0]]}"],
            "The Q-table <dir>/chains.json has the action 'coder/openai>wizard/openai', which is not a chain: Unknown agent 'wizard'; the agents are researcher, analyst, coder, validator." },
        { ["route", "a task", "--type", "coding", "--qtable", "q.json", "--config", "FILE:r.json:{\"iterations\": 1.5}"], "'iterations' must be a whole number, got 1.5." },
        { ["route", "a task", "--type", "coding", "--qtable", "q.json", "--config", "FILE:r.json:{\"resilence\": {}}"], "unknown setting 'resilence'; did you mean 'resilience'?" },
        { ["ppo", "--set", "ppo.hiddenSizes=null", "--out", "OUT"], "'ppo.hiddenSizes' cannot be null; leave it out for the default [256,256,128], or give another list." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_input_is_exit_2_with_one_sentence_and_nothing_written(string[] args, string sentence)
    {
        var (code, error) = Invoke(args);
        Assert.Equal(2, code);
        Assert.Equal($"error: {sentence}", error.Split('\n')[0].TrimEnd());
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Out), "a refused command must not leave a run directory");
    }

    [Theory]
    [InlineData("Cannot parse argument 'x' for option '--agents' as expected type 'System.Int32'.", "--agents must be a whole number, got 'x'.")]
    [InlineData("Cannot parse argument 'y' for option '--rate' as expected type 'System.Nullable`1[System.Double]'.", "--rate must be a number, got 'y'.")]
    [InlineData("Unrecognized command or argument '--frobnicate'.", "Unrecognized command or argument '--frobnicate'.")]
    public void A_conversion_error_from_the_parser_names_what_the_option_takes(string parserMessage, string sentence) =>
        Assert.Equal(sentence, CommandLine.ForUser(parserMessage));
}
