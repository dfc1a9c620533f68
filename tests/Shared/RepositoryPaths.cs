namespace RLWorkbench.TestSupport;

/// <summary>
/// Finds the repository root and the shared contracts beside it (../shared), from the test binaries.
/// One file, compiled into every test project that needs it (linked in its csproj).
/// </summary>
internal static class RepositoryPaths
{
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "RLWorkbench.sln")))
                    return dir.FullName;
            }
            throw new InvalidOperationException("Cannot find RLWorkbench.sln above the test binaries.");
        }
    }

    public static string GoldenTraces
    {
        get
        {
            var shared = Environment.GetEnvironmentVariable("RLW_SHARED_DIR") ?? Path.Combine(Root, "..", "shared");
            var path = Path.GetFullPath(Path.Combine(shared, "conformance", "phase1-golden-traces.json"));
            return File.Exists(path)
                ? path
                : throw new FileNotFoundException($"The golden traces are expected at {path} (the shared contracts beside the repository, or RLW_SHARED_DIR).");
        }
    }
}
