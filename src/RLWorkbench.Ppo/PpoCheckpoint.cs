using System.Text;
using System.Text.Json;
using RLWorkbench.Tracking;

namespace RLWorkbench.Ppo;

/// <summary>
/// Everything needed to continue training exactly where it stopped (weights, Adam moments and step
/// count, step and update counters, the random source's state, the episode window and the options),
/// or, for evaluation, just the weights and the shape they were trained for. One file: a JSON header
/// followed by the raw float arrays. Written through a temporary file and a rename, so a crash never
/// leaves half a checkpoint.
/// </summary>
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
    PpoOptions Options)
{
    private const string Magic = "RLWPPO1";

    private sealed record Header(
        int ObservationSize, ActionKind Kind, int ActionSize, float[] Low, float[] High, int[] HiddenSizes,
        int ParameterCount, bool HasOptimizer, long OptimizerSteps, long TotalSteps, int Updates, double ElapsedSeconds,
        ulong[] RandomState, double[] EpisodeReturns, int[] EpisodeLengths, long EpisodesFinished, PpoOptions Options);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>Writes the checkpoint through a temporary file and a rename, so a crash never leaves half a model.</summary>
    public void Save(string path) => AtomicFile.Write(path, WriteTo);

    public void WriteTo(Stream stream)
    {
        var hasOptimizer = FirstMoment is not null && SecondMoment is not null;
        var header = new Header(Shape.ObservationSize, Shape.Kind, Shape.ActionSize, Shape.Low, Shape.High, HiddenSizes,
            Parameters.Length, hasOptimizer, OptimizerSteps, TotalSteps, Updates, ElapsedSeconds, RandomState,
            [.. RecentEpisodes.Select(e => e.Return)], [.. RecentEpisodes.Select(e => e.Length)], EpisodesFinished, Options);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(JsonSerializer.Serialize(header, Json));
        WriteFloats(writer, Parameters);
        if (hasOptimizer)
        {
            WriteFloats(writer, FirstMoment!);
            WriteFloats(writer, SecondMoment!);
        }
    }

    public static PpoCheckpoint Load(string path)
    {
        using var stream = File.OpenRead(path);
        try
        {
            return ReadFrom(stream);
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or IOException)
        {
            throw new InvalidDataException($"{path} is not a readable PPO checkpoint ({e.Message}).", e);
        }
    }

    public static PpoCheckpoint ReadFrom(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadString() != Magic)
            throw new InvalidDataException("This file is not a PPO checkpoint of this workbench.");
        var header = JsonSerializer.Deserialize<Header>(reader.ReadString(), Json)
            ?? throw new InvalidDataException("The checkpoint header is empty.");
        var parameters = ReadFloats(reader, header.ParameterCount);
        float[]? m = null, v = null;
        if (header.HasOptimizer)
        {
            m = ReadFloats(reader, header.ParameterCount);
            v = ReadFloats(reader, header.ParameterCount);
        }
        var shape = new PolicyShape(header.ObservationSize, header.Kind, header.ActionSize, header.Low, header.High);
        var episodes = header.EpisodeReturns.Zip(header.EpisodeLengths).Select(p => (p.First, p.Second)).ToArray();
        return new PpoCheckpoint(shape, header.HiddenSizes, parameters, m, v, header.OptimizerSteps, header.TotalSteps, header.Updates,
            header.ElapsedSeconds, header.RandomState, episodes, header.EpisodesFinished, header.Options);
    }

    private static void WriteFloats(BinaryWriter writer, float[] values)
    {
        writer.Write(values.Length);
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static float[] ReadFloats(BinaryReader reader, int expected)
    {
        var count = reader.ReadInt32();
        if (count != expected)
            throw new InvalidDataException($"The checkpoint holds {count} values where {expected} were expected.");
        var values = new float[count];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
        reader.BaseStream.ReadExactly(bytes);
        return values;
    }

    /// <summary>A policy with these weights (for evaluation or prediction).</summary>
    public ActorCritic CreatePolicy(TorchSharp.torch.Device device)
    {
        var policy = new ActorCritic(Shape, HiddenSizes, device, new RLWorkbench.Gym.Random.SeededRandomSource(0));
        policy.Parameters.LoadValues(Parameters);
        return policy;
    }
}
