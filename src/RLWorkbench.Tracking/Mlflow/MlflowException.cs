namespace RLWorkbench.Tracking.Mlflow;

/// <summary>
/// A request to MLflow that failed, with the server's error_code and message when it sent them.
/// Transient failures (5xx, 429, timeouts, no connection) are retried; others are the request's fault.
/// </summary>
public sealed class MlflowException : Exception
{
    public MlflowException()
    {
    }

    public MlflowException(string message)
        : base(message)
    {
    }

    public MlflowException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public MlflowException(string message, string? errorCode, int? statusCode, bool isTransient, Exception? inner = null)
        : base(message, inner)
    {
        ErrorCode = errorCode;
        StatusCode = statusCode;
        IsTransient = isTransient;
    }

    /// <summary>MLflow's error_code (RESOURCE_ALREADY_EXISTS, INVALID_PARAMETER_VALUE, ...), null when none came back.</summary>
    public string? ErrorCode { get; }

    public int? StatusCode { get; }

    public bool IsTransient { get; }
}
