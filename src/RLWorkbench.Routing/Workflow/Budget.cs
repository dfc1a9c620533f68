using System.Globalization;
using Microsoft.Extensions.AI;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Workflow;

/// <summary>A call was not sent because it could take the spend past the budget; the message says which call and why.</summary>
public sealed class BudgetExhaustedException(string message) : Exception(message);

/// <summary>
/// The one hard USD cap of a run, for qlearn and compare alike. A routed task (one agent or a chain) reserves the worst case
/// of each of its calls before the first is sent, and starts only if all of them fit in what is left, counting the tasks
/// still in flight. The <see cref="BudgetedChatClient"/> stage settles each call at its billed cost against its own
/// reservation, in the order the task sends them; what a task did not send goes back when it ends. So the spend never
/// passes the cap unless a provider bills above the worst case, and then no further call is sent.
/// </summary>
public sealed class BudgetGuard(double limitUsd, double alreadySpentUsd = 0)
{
    private readonly Lock gate = new();
    private readonly Dictionary<int, Queue<double>> held = [];
    private double committed = alreadySpentUsd;
    private double reserved;

    public double LimitUsd { get; } = limitUsd >= 0 ? limitUsd : throw new RoutingInputException($"The budget must not be negative (got {limitUsd}).");

    public double SpentUsd
    {
        get
        {
            lock (gate)
                return committed;
        }
    }

    /// <summary>A budget as given: a cap under a cent is not rounded to $0.01 or $0.00.</summary>
    public static string Usd(double usd) => usd.ToString("0.00####", CultureInfo.InvariantCulture);

    /// <summary>
    /// "the $X budget (spent $Y, $Z held for the calls in flight)": with calls in flight the spend alone does not explain
    /// why a task no longer fits, their reserved worst cases do.
    /// </summary>
    public string Describe()
    {
        lock (gate)
        {
            var heldText = reserved > 0 ? $", ${reserved.ToString("0.0000", CultureInfo.InvariantCulture)} held for the calls in flight" : "";
            return $"${Usd(LimitUsd)} budget (spent ${committed.ToString("0.0000", CultureInfo.InvariantCulture)}{heldText})";
        }
    }

    /// <summary>Holds the worst case of each call of routed task <paramref name="task"/>, in the order they will be sent; false if they do not all fit.</summary>
    public bool TryReserve(int task, IReadOnlyList<double> callWorstCasesUsd)
    {
        var total = callWorstCasesUsd.Sum();
        lock (gate)
        {
            if (held.ContainsKey(task))
                throw new InvalidOperationException($"Routed task {task} already holds a reservation.");
            if (committed + reserved + total > LimitUsd)
                return false;
            held[task] = new Queue<double>(callWorstCasesUsd);
            reserved += total;
            return true;
        }
    }

    public bool Holds(int task)
    {
        lock (gate)
            return held.ContainsKey(task);
    }

    /// <summary>The next call of <paramref name="task"/> was billed <paramref name="billedUsd"/>: spent, and its own reservation released.</summary>
    public void Settle(int task, double billedUsd)
    {
        lock (gate)
        {
            committed += billedUsd;
            if (held.TryGetValue(task, out var calls) && calls.Count > 0)
                reserved -= calls.Dequeue();
        }
    }

    /// <summary>Routed task <paramref name="task"/> ended: the reservations of calls it never sent go back.</summary>
    public void Release(int task)
    {
        lock (gate)
        {
            if (held.Remove(task, out var calls))
                reserved -= calls.Sum();
        }
    }

    /// <summary>True once the spend is past the limit counting what is held: a provider billed more than the worst case reserved for it.</summary>
    public bool OverLimit
    {
        get
        {
            lock (gate)
                return committed + reserved > LimitUsd;
        }
    }
}

/// <summary>
/// Outermost stage of a budgeted pipeline (qlearn --real, compare --real): refuses a call once a provider has billed past the
/// cap, and settles each call at the cost the accounting stage measured (an answer that was not valid for its API is billed
/// too). A caller that routes tasks concurrently (qlearn) reserves each task before its first call and releases it after
/// its last; given <paramref name="reserveAtFirstCall"/>, the stage reserves a task itself at its first call and releases
/// it at the judge's answer or a failed call (compare routes one task at a time, so that is before the task starts).
/// </summary>
public sealed class BudgetedChatClient(IChatClient inner, BudgetGuard guard, Func<CallContext, (string Label, RoutedChainCost WorstCase)>? reserveAtFirstCall = null)
    : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var context = CallContext.From(options) ?? throw new InvalidOperationException("A budgeted call needs its call context (which task, which purpose).");
        var task = context.Iteration;
        var ownsReservation = reserveAtFirstCall is not null;
        if (ownsReservation && context.Purpose == CallPurpose.Agent && context.Step == 0)
        {
            var (label, worst) = reserveAtFirstCall!(context);
            if (!guard.TryReserve(task, [.. worst.Steps, worst.Judge]))
                throw new BudgetExhaustedException(
                    $"stopped before routing task {context.TaskId} to {label}: its worst case (${worst.Total.ToString("0.0000", CultureInfo.InvariantCulture)}) would take the spend past the {guard.Describe()}.");
        }
        else if (guard.OverLimit)
        {
            if (ownsReservation)
                guard.Release(task);
            var call = context.Purpose == CallPurpose.Judge ? "the judge call" : context.Step == 0 ? "the agent call" : $"step {context.Step + 1}";
            throw new BudgetExhaustedException(
                $"stopped before {call} of iteration {task + 1}: the spend (${guard.SpentUsd.ToString("0.0000", CultureInfo.InvariantCulture)}) is past the ${BudgetGuard.Usd(guard.LimitUsd)} budget because a provider billed more than its worst case.");
        }
        try
        {
            var response = await base.GetResponseAsync(messages, options, cancellationToken);
            guard.Settle(task, CallRecord.Of(response).CostUsd);
            if (ownsReservation && context.Purpose == CallPurpose.Judge)
                guard.Release(task);
            return response;
        }
        catch (Exception e)
        {
            // An answer the provider sent but that was not valid for its API is billed; anything else came back with no bill.
            guard.Settle(task, e is ProviderCallException { Call: { } billed } ? billed.CostUsd : 0);
            if (ownsReservation)
                guard.Release(task);
            throw;
        }
    }
}
