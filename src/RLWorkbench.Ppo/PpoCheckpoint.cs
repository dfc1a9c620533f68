using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using RLWorkbench.Tracking;

namespace RLWorkbench.Ppo;

/// <summary>
/// Everything needed to continue training exactly where it stopped (weights, Adam moments and step
/// count, step and update counters, the random source's state, the episode window, the options, and
/// the observation and return statistics), or, for evaluation, the policy: weights, distribution and
/// observation statistics. One file: a magic string with the format version, a JSON header, then the
/// raw float arrays. Written through a temporary file and a rename, so a crash never leaves half a
/// checkpoint.
/// </summary>
/// <remarks>
/// Version 2 (RLWPPO2) added the distribution's name and the normalisers' statistics to the header.
/// Version 1 files (RLWPPO1) still load: their options lack the distribution settings, so they read as
/// the seed's policy, a state-independent diagonal Gaussian (or a categorical) without normalisers.
/// </remarks>
public sealed record PpoCheckpoint(
    PolicyShape Shape,
    int[] HiddenSizes,
    float[] Parameters,
    float[]? FirstMoment,
    float[]? SecondMoment,
    long OptimizerSteps,
    long TotalSteps,
    int Updates,
    double ElapsedSeconds,
    ulong[] RandomState,
    (double Return, int Length)[] RecentEpisodes,
    long EpisodesFinished,
    PpoOptions Options,
    string Distribution,
    RunningStatistics? ObservationStatistics = null,
    RunningStatistics? ReturnStatistics = null)
{
    private const string MagicPrefix = "RLWPPO";
    private const int Version = 2;

    private sealed record Header(
        int ObservationSize, ActionKind Kind, int ActionSize, float[] Low, float[] High, int[] HiddenSizes,
        int ParameterCount, bool HasOptimizer, long OptimizerSteps, long TotalSteps, int Updates, double ElapsedSeconds,
        ulong[] RandomState, double[] EpisodeReturns, int[] EpisodeLengths, long EpisodesFinished, PpoOptions Options,
        string? Distribution = null, RunningStatistics? ObservationStatistics = null, RunningStatistics? ReturnStatistics = null);

    // Statistics of a NaN-producing environment must still save, so non-finite numbers are written as names.
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Writes the checkpoint through a temporary file and a rename, so a crash never leaves half a model.</summary>
    public void Save(string path) => AtomicFile.Write(path, WriteTo);

    public void WriteTo(Stream stream)
    {
        var hasOptimizer = FirstMoment is not null && SecondMoment is not null;
        var header = new Header(Shape.ObservationSize, Shape.Kind, Shape.ActionSize, Shape.Low, Shape.High, HiddenSizes,
            Parameters.Length, hasOptimizer, OptimizerSteps, TotalSteps, Updates, ElapsedSeconds, RandomState,
            [.. RecentEpisodes.Select(e => e.Return)], [.. RecentEpisodes.Select(e => e.Length)], EpisodesFinished, Options,
            Distribution, ObservationStatistics, ReturnStatistics);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(MagicPrefix + Version);
        writer.Write(JsonSerializer.Serialize(header, Json));
        WriteFloats(writer, Parameters);
        if (hasOptimizer)
        {
            WriteFloats(writer, FirstMoment!);
            WriteFloats(writer, SecondMoment!);
        }
    }

    /// <summary>Reads a checkpoint file; anything wrong with it is an <see cref="InvalidDataException"/> whose one sentence names the file.</summary>
    public static PpoCheckpoint Load(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadFrom(stream, path);
    }

    public static PpoCheckpoint ReadFrom(Stream stream, string source = "the stream")
    {
        try
        {
            return Read(stream, source);
        }
        catch (JsonException e) when (e.Path is { Length: > 1 } path)
        {
            throw new InvalidDataException($"{source} is not a readable PPO checkpoint: its header field '{path.TrimStart('$', '.')}' does not hold a value of the right kind.", e);
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or IOException or NotSupportedException)
        {
            throw new InvalidDataException($"{source} is not a readable PPO checkpoint ({e.Message}).", e);
        }
    }

    private static PpoCheckpoint Read(Stream stream, string source)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var version = ReadVersion(reader, source);
        var header = JsonSerializer.Deserialize<Header>(reader.ReadString(), Json)
            ?? throw new InvalidDataException($"{source} has an empty PPO checkpoint header.");
        if (HeaderProblem(header) is { } problem)
            throw new InvalidDataException($"{source} is not a usable PPO checkpoint: its header field {problem}");
        var parameters = ReadFloats(reader, header.ParameterCount, source);
        float[]? m = null, v = null;
        if (header.HasOptimizer)
        {
            m = ReadFloats(reader, header.ParameterCount, source);
            v = ReadFloats(reader, header.ParameterCount, source);
        }
        var shape = new PolicyShape(header.ObservationSize, header.Kind, header.ActionSize, header.Low, header.High);
        var episodes = header.EpisodeReturns.Zip(header.EpisodeLengths).Select(p => (p.First, p.Second)).ToArray();
        string distribution;
        try
        {
            distribution = ActionDistributions.For(shape, header.Options).Name;
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source} holds options this build cannot use: {e.Message}", e);
        }
        if (version >= 2 && header.Distribution != distribution)
            throw new InvalidDataException($"{source} names distribution '{header.Distribution}' but its options give '{distribution}'.");
        return new PpoCheckpoint(shape, header.HiddenSizes, parameters, m, v, header.OptimizerSteps, header.TotalSteps, header.Updates,
            header.ElapsedSeconds, header.RandomState, episodes, header.EpisodesFinished, header.Options, distribution,
            header.ObservationStatistics, header.ReturnStatistics);
    }

    /// <summary>
    /// The first header field a crafted or damaged file gets wrong, as "'Name' ... ." naming what is allowed; null when
    /// all can be used. A negative step count, say, would make a resumed run drop every metrics row after it.
    /// </summary>
    private static string? HeaderProblem(Header h)
    {
        // Declared non-null, but a crafted file can still leave any of them out.
        if (h.Low is null)
            return "'Low' is missing.";
        if (h.High is null)
            return "'High' is missing.";
        if (h.HiddenSizes is null)
            return "'HiddenSizes' is missing.";
        if (h.RandomState is null)
            return "'RandomState' is missing.";
        if (h.EpisodeReturns is null)
            return "'EpisodeReturns' is missing.";
        if (h.EpisodeLengths is null)
            return "'EpisodeLengths' is missing.";
        if (h.Options is null)
            return "'Options' is missing.";
        if (h.ObservationSize is < 1 or > 1_000_000)
            return $"'ObservationSize' must be from 1 to 1,000,000, got {h.ObservationSize}.";
        if (!Enum.IsDefined(h.Kind))
            return $"'Kind' must be one of {string.Join(", ", Enum.GetNames<ActionKind>())}, got {(int)h.Kind}.";
        if (h.ActionSize is < 1 or > 1_000_000)
            return $"'ActionSize' must be from 1 to 1,000,000, got {h.ActionSize}.";
        if (h.Kind == ActionKind.Continuous && (h.Low.Length != h.ActionSize || h.High.Length != h.ActionSize))
            return $"'Low' and 'High' must hold one bound per action component ({h.ActionSize}), got {h.Low.Length} and {h.High.Length}.";
        if (h.HiddenSizes.Length == 0 || h.HiddenSizes.Any(size => size is < 1 or > 65536))
            return $"'HiddenSizes' must be one or more layer widths from 1 to 65,536, got [{string.Join(", ", h.HiddenSizes)}].";
        if (h.ParameterCount < 1)
            return $"'ParameterCount' must be positive, got {h.ParameterCount}.";
        if (h.OptimizerSteps < 0)
            return $"'OptimizerSteps' must be 0 or more, got {h.OptimizerSteps}.";
        if (h.TotalSteps < 0)
            return $"'TotalSteps' must be 0 or more, got {h.TotalSteps}.";
        if (h.Updates < 0)
            return $"'Updates' must be 0 or more, got {h.Updates}.";
        if (!(h.ElapsedSeconds >= 0 && double.IsFinite(h.ElapsedSeconds)))
            return $"'ElapsedSeconds' must be a finite number of 0 or more, got {h.ElapsedSeconds}.";
        if (h.RandomState.Length != 4 || h.RandomState.All(word => word == 0))
            return $"'RandomState' must be four numbers, not all zero, got {h.RandomState.Length} numbers.";
        if (h.EpisodeReturns.Length != h.EpisodeLengths.Length)
            return $"'EpisodeReturns' and 'EpisodeLengths' must be the same length, got {h.EpisodeReturns.Length} and {h.EpisodeLengths.Length}.";
        if (h.EpisodeLengths.Any(length => length < 1))
            return $"'EpisodeLengths' must all be positive, got {h.EpisodeLengths.Min()}.";
        if (h.EpisodesFinished < h.EpisodeReturns.Length)
            return $"'EpisodesFinished' must be at least the {h.EpisodeReturns.Length} recent episodes it keeps, got {h.EpisodesFinished}.";
        if (h.Options.Problem() is { } options)
            return $"'Options' is not usable: {options}";
        foreach (var (name, statistics) in new[] { ("ObservationStatistics", h.ObservationStatistics), ("ReturnStatistics", h.ReturnStatistics) })
        {
            if (statistics is not null && (statistics.Mean is null || statistics.Variance is null || statistics.Mean.Length != statistics.Variance.Length))
                return $"'{name}' must hold a mean and a variance of the same length.";
        }
        return null;
    }

    /// <summary>The format version from the magic string, or one sentence saying the file is not a checkpoint this build reads.</summary>
    private static int ReadVersion(BinaryReader reader, string source)
    {
        // BinaryWriter prefixes a string with its length; the magic is 7 bytes. Anything else is not a checkpoint,
        // and checking first keeps a stray file from being read as a huge string.
        var length = reader.BaseStream.ReadByte();
        var magic = length == MagicPrefix.Length + 1 ? Encoding.UTF8.GetString(reader.ReadBytes(length)) : "";
        if (!magic.StartsWith(MagicPrefix, StringComparison.Ordinal) || !int.TryParse(magic.AsSpan(MagicPrefix.Length), out var version))
            throw new InvalidDataException($"{source} is not a PPO checkpoint of this workbench.");
        if (version < 1 || version > Version)
            throw new InvalidDataException($"{source} is a PPO checkpoint of format version {version}, but this build reads versions 1 to {Version}; use the workbench that wrote it or a newer one.");
        return version;
    }

    private static void WriteFloats(BinaryWriter writer, float[] values)
    {
        writer.Write(values.Length);
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static float[] ReadFloats(BinaryReader reader, int expected, string source)
    {
        var count = reader.ReadInt32();
        if (count != expected)
            throw new InvalidDataException($"{source} holds {count} values where its header promises {expected}.");
        var values = new float[count];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
        reader.BaseStream.ReadExactly(bytes);
        return values;
    }

    /// <summary>A policy with these weights, distribution and (frozen) observation statistics, for evaluation or prediction.</summary>
    public ActorCritic CreatePolicy(TorchSharp.torch.Device device)
    {
        var policy = new ActorCritic(Shape, Options with { HiddenSizes = HiddenSizes }, device, new RLWorkbench.Gym.Random.SeededRandomSource(0));
        policy.Parameters.LoadValues(Parameters);
        if (ObservationStatistics is not null)
            policy.Normalizer?.Statistics.Restore(ObservationStatistics);
        return policy;
    }
}
