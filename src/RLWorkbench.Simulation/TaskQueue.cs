namespace RLWorkbench.Simulation;

/// <summary>
/// The FIFO of waiting tasks as a growable ring buffer: the observation reads the first few entries
/// by index, and pushing and popping allocate nothing once the buffer has grown to its working size.
/// </summary>
public sealed class TaskQueue
{
    private WorkflowTask[] items = new WorkflowTask[16];
    private int head;

    public int Count { get; private set; }

    public WorkflowTask this[int index] => index >= 0 && index < Count
        ? items[(head + index) % items.Length]
        : throw new ArgumentOutOfRangeException(nameof(index), index, $"the queue holds {Count} tasks.");

    public void Enqueue(WorkflowTask task)
    {
        if (Count == items.Length)
        {
            var bigger = new WorkflowTask[items.Length * 2];
            for (var i = 0; i < Count; i++)
                bigger[i] = items[(head + i) % items.Length];
            items = bigger;
            head = 0;
        }
        items[(head + Count) % items.Length] = task;
        Count++;
    }

    public WorkflowTask Dequeue()
    {
        if (Count == 0)
            throw new InvalidOperationException("The task queue is empty.");
        var task = items[head];
        head = (head + 1) % items.Length;
        Count--;
        return task;
    }

    public void Clear()
    {
        head = 0;
        Count = 0;
    }
}
