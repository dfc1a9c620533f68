using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using RLWorkbench.Tracking;

namespace RLWorkbench.Routing.Core;

/// <summary>One task the coordinator routes: complexity and priority are in [0, 1] and only travel in the agent's header.</summary>
public sealed record RoutingTask(string Id, string Description, TaskType Type, double Complexity, double Priority);

/// <summary>
/// The tasks a run picks from uniformly. Data, not code: the default is experiments/tasks.json, embedded,
/// and a user can point at their own file with the same shape.
/// </summary>
public sealed class TaskBank
{
    private TaskBank(IReadOnlyList<RoutingTask> tasks) => Tasks = tasks;

    public IReadOnlyList<RoutingTask> Tasks { get; }

    public int Count => Tasks.Count;

    public RoutingTask this[int index] => Tasks[index];

    public static TaskBank Default => Parse(EmbeddedData.Read("tasks.json"), "the embedded task bank");

    public static TaskBank Load(string path)
    {
        if (!File.Exists(path))
            throw new RoutingInputException(InputFile.Missing("The task bank file", path));
        return Parse(File.ReadAllText(path), path);
    }

    public static TaskBank Parse(string json, string source)
    {
        TaskFile? file;
        try
        {
            file = JsonSerializer.Deserialize<TaskFile>(json, EmbeddedData.Json);
        }
        catch (JsonException e)
        {
            throw new RoutingInputException($"The task bank {source} is not valid JSON ({JsonProblem.Describe(e)}).", e);
        }
        if (file?.Tasks is not { Count: > 0 } entries)
            throw new RoutingInputException($"The task bank {source} has no tasks (expected {{\"tasks\": [{{\"id\", \"type\", \"description\", \"complexity\", \"priority\"}}]}}).");
        var tasks = new List<RoutingTask>();
        foreach (var t in entries)
        {
            if (string.IsNullOrWhiteSpace(t.Id) || string.IsNullOrWhiteSpace(t.Description) || t.Type is null)
                throw new RoutingInputException($"A task in {source} is missing its id, type or description.");
            if (t.Complexity is not (>= 0 and <= 1) || t.Priority is not (>= 0 and <= 1))
                throw new RoutingInputException($"Task '{t.Id}' in {source} needs complexity and priority between 0 and 1.");
            if (tasks.Any(x => x.Id == t.Id))
                throw new RoutingInputException($"Task id '{t.Id}' appears twice in {source}.");
            tasks.Add(new RoutingTask(t.Id, t.Description.Trim(), RoutingNames.ParseTaskType(t.Type), t.Complexity.Value, t.Priority.Value));
        }
        return new TaskBank(tasks);
    }

    public RoutingTask Find(string id) => Tasks.FirstOrDefault(t => t.Id == id)
        ?? throw new RoutingInputException($"No task '{id}' in the task bank.");

    private sealed record TaskFile([property: JsonPropertyName("tasks")] List<TaskEntry>? Tasks);

    private sealed record TaskEntry(string? Id, string? Type, string? Description, double? Complexity, double? Priority);
}

/// <summary>The data files (tasks, prices, simulation profile) compiled in from experiments/ so a bare command has defaults.</summary>
public static class EmbeddedData
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    public static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("RLWorkbench.Routing.Data." + name)
            ?? throw new InvalidOperationException($"The embedded data file {name} is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
