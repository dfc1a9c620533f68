using System.Text;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

/// <summary>
/// A checkpoint whose JSON header was crafted or damaged: each field is checked on load, and the one sentence names
/// the file and the field rather than failing deep in a resume (or, for a negative step count, silently dropping
/// every metrics row the resumed run had).
/// </summary>
public sealed class CheckpointHeaderTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"ppo-header-{Guid.NewGuid():N}");

    public CheckpointHeaderTests() => Directory.CreateDirectory(directory);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static readonly PpoOptions Small = new() { NumEnvs = 2, StepsPerEnv = 16, MinibatchSize = 8, Epochs = 1, HiddenSizes = [8] };

    /// <summary>A real checkpoint (after one update; BoxTarget episodes are one step, so 32 of them) whose header has had <paramref name="edit"/> applied.</summary>
    private string CheckpointWith(Action<JsonObject> edit)
    {
        using var trainer = new PpoTrainer(Small, i => new BoxTarget(10 + i, offset: 50, scale: 20), CPU);
        trainer.Learn(32);
        using var original = new MemoryStream();
        trainer.ToCheckpoint().WriteTo(original);
        original.Position = 0;
        using var reader = new BinaryReader(original, Encoding.UTF8);
        var magic = reader.ReadString();
        var header = JsonNode.Parse(reader.ReadString())!.AsObject();
        var rest = reader.ReadBytes((int)(original.Length - original.Position));
        edit(header);
        var path = Path.Combine(directory, "crafted.bin");
        using (var writer = new BinaryWriter(File.Create(path), Encoding.UTF8))
        {
            writer.Write(magic);
            writer.Write(header.ToJsonString());
            writer.Write(rest);
        }
        return path;
    }

    [Fact]
    public void The_unedited_header_loads_so_the_edits_below_are_what_is_refused()
    {
        var path = CheckpointWith(_ => { });
        Assert.Equal(32, PpoCheckpoint.Load(path).TotalSteps);
    }

    [Theory]
    [InlineData("TotalSteps", "-5", "'TotalSteps' must be 0 or more, got -5.")]
    [InlineData("Updates", "-1", "'Updates' must be 0 or more, got -1.")]
    [InlineData("OptimizerSteps", "-1", "'OptimizerSteps' must be 0 or more, got -1.")]
    [InlineData("ElapsedSeconds", "-2.5", "'ElapsedSeconds' must be a finite number of 0 or more, got -2.5.")]
    [InlineData("ParameterCount", "-1", "'ParameterCount' must be positive, got -1.")]
    [InlineData("ObservationSize", "0", "'ObservationSize' must be from 1 to 1,000,000, got 0.")]
    [InlineData("ActionSize", "-3", "'ActionSize' must be from 1 to 1,000,000, got -3.")]
    [InlineData("Kind", "7", "'Kind' must be one of Continuous, Discrete, got 7.")]
    [InlineData("HiddenSizes", "[]", "'HiddenSizes' must be one or more layer widths from 1 to 65,536, got [].")]
    [InlineData("RandomState", "[1, 2]", "'RandomState' must be four numbers, not all zero, got 2 numbers.")]
    [InlineData("EpisodeLengths", "[200, 200, 200]", "'EpisodeReturns' and 'EpisodeLengths' must be the same length, got 32 and 3.")]
    [InlineData("EpisodesFinished", "-1", "'EpisodesFinished' must be at least the 32 recent episodes it keeps, got -1.")]
    [InlineData("Low", "null", "'Low' is missing.")]
    [InlineData("Options", "null", "'Options' is missing.")]
    public void A_crafted_header_field_is_refused_naming_the_file_and_the_field(string field, string value, string problem)
    {
        var path = CheckpointWith(h => h[field] = JsonNode.Parse(value));
        var e = Assert.Throws<InvalidDataException>(() => PpoCheckpoint.Load(path));
        Assert.Equal($"{path} is not a usable PPO checkpoint: its header field {problem}", e.Message);
    }

    [Fact]
    public void Options_a_run_could_not_use_are_refused_with_the_option()
    {
        var path = CheckpointWith(h => h["Options"]!["Epochs"] = 0);
        var e = Assert.Throws<InvalidDataException>(() => PpoCheckpoint.Load(path));
        Assert.Equal($"{path} is not a usable PPO checkpoint: its header field 'Options' is not usable: epochs must be between 1 and 10,000, got 0.", e.Message);
    }

    [Fact]
    public void A_field_of_the_wrong_kind_is_named_without_dotnet_type_names()
    {
        var path = CheckpointWith(h => h["TotalSteps"] = "many");
        var e = Assert.Throws<InvalidDataException>(() => PpoCheckpoint.Load(path));
        Assert.Equal($"{path} is not a readable PPO checkpoint: its header field 'TotalSteps' does not hold a value of the right kind.", e.Message);
    }
}
