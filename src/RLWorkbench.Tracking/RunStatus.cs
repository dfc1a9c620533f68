namespace RLWorkbench.Tracking;

public enum RunStatus
{
    Running,
    Finished,
    Failed,
    Killed,
}
