using System.Globalization;

namespace RLWorkbench.Routing.Core;

/// <summary>What each agent role is told before it sees a task, and how the task reaches it.</summary>
public static class AgentPrompts
{
    public static string SystemPrompt(AgentRole role) => role switch
    {
        AgentRole.Researcher =>
            "You are a research specialist. Give accurate findings organised under clear headings, put them in context, "
            + "cover the subject broadly rather than one corner of it, and name the sources or standard references a reader could check.",
        AgentRole.Analyst =>
            "You are an analyst. Break the question into its parts, lay out the options with their pros and cons, "
            + "make the trade-offs and recurring patterns explicit, and support conclusions with numbers where you can.",
        AgentRole.Coder =>
            "You are a senior software engineer. Write clean, documented, typed code that handles errors, follow the language's "
            + "best practices, and explain the design choices and how to use the code.",
        AgentRole.Validator =>
            "You are a reviewer who checks work for correctness. State whether it is right, point out every error, gap and hidden "
            + "assumption, and finish with a short checklist of concrete improvements.",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    /// <summary>The single user message: a header with the type in capitals, complexity and priority to one decimal, a blank line, the description.</summary>
    public static string UserMessage(RoutingTask task) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Task type: {task.Type.Name().ToUpperInvariant()}\nComplexity: {task.Complexity:0.0}\nPriority: {task.Priority:0.0}\n\n{task.Description}");

    /// <summary>
    /// A later step of a chain: the task as <see cref="UserMessage"/> gives it, then the previous step's answer for this agent to
    /// improve or check in its own role (the seed's "LLM-native shared context": the answer itself, not a summary of it).
    /// </summary>
    public static string HandoffMessage(RoutingTask task, AgentRole previous, string previousAnswer) =>
        $"{UserMessage(task)}\n\nThe previous specialist ({previous.Name()}) answered:\n---\n{previousAnswer}\n---\n\n"
        + "Improve or check this answer in your own role: keep what is right, correct what is wrong, add what is missing, "
        + "and reply with the complete improved answer.";
}
