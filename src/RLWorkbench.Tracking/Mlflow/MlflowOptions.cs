namespace RLWorkbench.Tracking.Mlflow;

/// <summary>
/// Where and how to reach an MLflow tracking server, read the way MLflow's own clients read it
/// (MLFLOW_TRACKING_URI and friends). Credentials are held here only to build request headers: this
/// type has no ToString that shows them, and nothing writes them to a run.
/// </summary>
public sealed class MlflowOptions
{
    public const string TrackingUriVariable = "MLFLOW_TRACKING_URI";
    public const string ExperimentNameVariable = "MLFLOW_EXPERIMENT_NAME";
    public const string TokenVariable = "MLFLOW_TRACKING_TOKEN";
    public const string UsernameVariable = "MLFLOW_TRACKING_USERNAME";
    public const string PasswordVariable = "MLFLOW_TRACKING_PASSWORD";

    /// <summary>The server's base address (scheme, host, port, and any path prefix), without user info.</summary>
    public required Uri TrackingUri { get; init; }

    /// <summary>MLflow's own default experiment when MLFLOW_EXPERIMENT_NAME is not set.</summary>
    public string ExperimentName { get; init; } = "Default";

    public string? Token { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>A request that takes longer is abandoned and counted as a transient failure.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Waits between attempts after a transient failure; one retry per entry.</summary>
    public IReadOnlyList<TimeSpan> RetryDelays { get; init; } = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    /// <summary>How long a live mirror gathers metrics before sending them, so a fast loop makes few requests.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the end of a run waits for the mirror to send what it holds; the rest is left to `runs sync`.</summary>
    public TimeSpan FinishTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The tracking URI as it may be printed or saved: never with credentials.</summary>
    public string DisplayUri => TrackingUri.GetLeftPart(UriPartial.Path).TrimEnd('/');

    /// <summary>
    /// Reads the MLFLOW_* variables; null when no tracking URI is set (the run stays local). A URI this
    /// client cannot use gives an <see cref="MlflowConfigurationException"/> with one sentence saying why.
    /// </summary>
    public static MlflowOptions? FromEnvironment(Func<string, string?> variable)
    {
        var uriText = variable(TrackingUriVariable)?.Trim();
        if (string.IsNullOrEmpty(uriText))
            return null;
        if (!Uri.TryCreate(uriText, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new MlflowConfigurationException(
                $"{TrackingUriVariable} must be an http:// or https:// address of an MLflow tracking server; "
                + "file stores and databricks URIs are not supported by this client.");
        }
        string? username = variable(UsernameVariable);
        string? password = variable(PasswordVariable);
        // http://user:secret@host is how some people pass basic credentials; take them out of the URI so it can be shown.
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            username ??= Uri.UnescapeDataString(parts[0]);
            password ??= parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "";
            uri = new UriBuilder(uri) { UserName = "", Password = "" }.Uri;
        }
        var token = variable(TokenVariable);
        if (string.IsNullOrEmpty(token) && string.IsNullOrEmpty(password) != string.IsNullOrEmpty(username))
            throw new MlflowConfigurationException($"{UsernameVariable} and {PasswordVariable} must be set together.");
        var experiment = variable(ExperimentNameVariable);
        return new MlflowOptions
        {
            TrackingUri = uri,
            ExperimentName = string.IsNullOrWhiteSpace(experiment) ? "Default" : experiment.Trim(),
            Token = string.IsNullOrEmpty(token) ? null : token,
            Username = string.IsNullOrEmpty(username) ? null : username,
            Password = string.IsNullOrEmpty(password) ? null : password,
        };
    }

    public override string ToString() => $"MLflow at {DisplayUri}, experiment '{ExperimentName}'";
}

/// <summary>The MLFLOW_* settings cannot be used as given.</summary>
public sealed class MlflowConfigurationException : Exception
{
    public MlflowConfigurationException()
    {
    }

    public MlflowConfigurationException(string message)
        : base(message)
    {
    }

    public MlflowConfigurationException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
