using RLWorkbench.Ppo.TensorBoard;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

public sealed class TensorBoardLogTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly string directory = Path.Combine(Path.GetTempPath(), "rlw-tensorboard-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static UpdateMetrics Update(long step, double rewardMean, double timeSeconds) => new(
        step, timeSeconds, rewardMean, 200, PolicyLoss: -0.0123, ValueLoss: 45.6, EntropyLoss: -17.03, ApproxKl: 0.0071,
        ClipFraction: 0.081, ExplainedVariance: 0.42, LogStdMean: -0.1, LearningRate: 3e-4, StepsPerSecond: 2600,
        RolloutSeconds: 2.5, UpdateSeconds: 0.6, GradientSteps: 1280, StoppedEarly: false,
        ClipRange: 0.2, ValueClipRange: double.NaN, ActionStd: 0.91);

    [Fact]
    public void The_CRC_of_the_test_reader_is_CRC_32C()
    {
        // The check value of CRC-32C (Castagnoli) for "123456789".
        Assert.Equal(0xE3069283u, EventFileReader.Crc32C("123456789"u8));
        Assert.Equal(0u, EventFileReader.Crc32C([]));
    }

    [Fact]
    public void Every_record_has_valid_CRCs_the_file_starts_with_its_version_and_the_scalars_read_back_under_SB3s_names()
    {
        var clock = new ManualClock(Start);
        string path;
        using (var log = TensorBoardLog.ForRun(directory, clock))
        {
            path = log.FilePath;
            clock.Now = Start.AddSeconds(3.25);
            log.WriteUpdate(Update(8192, 412.5, 3.2));
            clock.Now = Start.AddSeconds(7.5);
            log.WriteEvaluation(10_000, 455.25, 200);
            log.WriteUpdate(Update(16_384, double.NaN, 6.4) with { ApproxKl = 0.5 });
        }

        Assert.Equal(Path.Combine(directory, "tensorboard"), Path.GetDirectoryName(path));
        Assert.StartsWith($"events.out.tfevents.{Start.ToUnixTimeSeconds()}.", Path.GetFileName(path), StringComparison.Ordinal);
        var events = EventFileReader.Read(path);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal(Start.ToUnixTimeSeconds(), events[0].WallTime);
        Assert.Equal(Start.ToUnixTimeSeconds() + 3.25, events[1].WallTime);
        Assert.Equal(Start.ToUnixTimeSeconds() + 7.5, events[^1].WallTime);

        (string, long, float)[] first =
        [
            ("rollout/ep_rew_mean", 8192, 412.5f),
            ("rollout/ep_len_mean", 8192, 200f),
            ("time/fps", 8192, (float)(8192 / 3.2)),
            ("train/entropy_loss", 8192, -17.03f),
            ("train/policy_gradient_loss", 8192, -0.0123f),
            ("train/value_loss", 8192, 45.6f),
            ("train/approx_kl", 8192, 0.0071f),
            ("train/clip_fraction", 8192, 0.081f),
            ("train/explained_variance", 8192, 0.42f),
            ("train/std", 8192, 0.91f),
            ("train/clip_range", 8192, 0.2f),
            ("train/learning_rate", 8192, 3e-4f),
        ];
        (string, long, float)[] evaluation = [("eval/mean_reward", 10_000, 455.25f), ("eval/mean_ep_length", 10_000, 200f)];
        // The second update has no finished episode yet (NaN mean reward): that scalar is left out.
        (string, long, float)[] second =
        [
            ("rollout/ep_len_mean", 16_384, 200f),
            ("time/fps", 16_384, (float)(16_384 / 6.4)),
            ("train/entropy_loss", 16_384, -17.03f),
            ("train/policy_gradient_loss", 16_384, -0.0123f),
            ("train/value_loss", 16_384, 45.6f),
            ("train/approx_kl", 16_384, 0.5f),
            ("train/clip_fraction", 16_384, 0.081f),
            ("train/explained_variance", 16_384, 0.42f),
            ("train/std", 16_384, 0.91f),
            ("train/clip_range", 16_384, 0.2f),
            ("train/learning_rate", 16_384, 3e-4f),
        ];
        Assert.Equal([.. first, .. evaluation, .. second], EventFileReader.Scalars(events));
        Assert.Equal(1 + first.Length + evaluation.Length + second.Length, events.Count);
    }

    [Fact]
    public void A_changed_byte_breaks_the_CRC_of_its_record()
    {
        string path;
        using (var log = new TensorBoardLog(directory, new ManualClock(Start)))
        {
            path = log.FilePath;
            log.WriteEvaluation(5000, 100, 200);
        }
        var bytes = File.ReadAllBytes(path);
        // The last byte before the last record's data CRC is the float's top byte.
        bytes[^5] ^= 0x01;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => EventFileReader.Read(path));
        Assert.StartsWith("record 2: the data's CRC is", e.Message);
    }

    [Fact]
    public void Two_logs_in_one_directory_in_the_same_second_write_two_files()
    {
        var clock = new ManualClock(Start);
        using var first = new TensorBoardLog(directory, clock);
        using var second = new TensorBoardLog(directory, clock);
        Assert.NotEqual(first.FilePath, second.FilePath);
        Assert.Equal(2, Directory.GetFiles(directory, "events.out.tfevents.*").Length);
    }

    [Fact]
    public void A_short_PPO_run_logs_what_each_update_reported()
    {
        var options = new PpoOptions { NumEnvs = 2, StepsPerEnv = 16, MinibatchSize = 16, Epochs = 2, HiddenSizes = [8], Seed = 3 };
        using var trainer = new PpoTrainer(options, i => new TargetReaching(i), CPU);
        var reported = new List<UpdateMetrics>();
        string path;
        using (var log = new TensorBoardLog(directory))
        {
            path = log.FilePath;
            foreach (var steps in new[] { 32, 64 })
            {
                trainer.Learn(steps);
                reported.Add(trainer.LastMetrics!);
                log.WriteUpdate(trainer.LastMetrics!);
            }
        }

        var scalars = EventFileReader.Scalars(EventFileReader.Read(path));
        foreach (var m in reported)
        {
            float At(string tag) => Assert.Single(scalars, s => s.Tag == tag && s.Step == m.Step).Value;
            Assert.Equal((float)m.ValueLoss, At("train/value_loss"));
            Assert.Equal((float)m.ApproxKl, At("train/approx_kl"));
            Assert.Equal(0.2f, At("train/clip_range"));
            // One action dimension: the mean of exp(log_std) is exp of the mean log_std.
            Assert.Equal((float)Math.Exp(m.LogStdMean), At("train/std"), 1e-6f);
        }
        Assert.Equal([32L, 64L], reported.Select(m => m.Step));
        Assert.DoesNotContain(scalars, s => s.Tag == "train/clip_range_vf");
    }
}
