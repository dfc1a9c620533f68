using System.Text.RegularExpressions;

namespace RLWorkbench.Ppo.Tests;

/// <summary>
/// TorchSharp members that build a Scalar inside themselves, which the garbage collector may free while
/// libtorch still reads it ("Unknown scalar type" after hundreds of thousands of steps; docs/ppo.md,
/// "Scalars"). A crash that rare cannot be caught by running, so the code that trains is searched for them.
/// </summary>
public class ImplicitScalarTests
{
    private static readonly (Regex Pattern, string Why)[] Forbidden =
    [
        (new Regex(@"\.square\(\)"), "Tensor.square() is pow(2) with an implicit Scalar; use x.mul(x)"),
        (new Regex(@"\.pow\(\s*[-0-9.]"), "pow with a number makes an implicit Scalar; hold an explicit one"),
        (new Regex(@"\bsoftplus\("), "nn.functional.softplus makes implicit Scalars; use -log_sigmoid(-x)"),
        // One argument, at most one level of parentheses inside it, no top-level comma: add(x) is add(x, 1) with an implicit alpha.
        (new Regex(@"\.add_?\((?:[^(),]|\((?:[^()]|\([^()]*\))*\))*\)"), "add(x) passes alpha 1 as an implicit Scalar; pass a held one: add(x, one)"),
    ];

    [Fact]
    public void The_training_code_calls_no_TorchSharp_member_that_hides_an_implicit_scalar()
    {
        var offences = new List<string>();
        foreach (var project in new[] { "RLWorkbench.Ppo", "RLWorkbench.Comparison", "RLWorkbench.Experiments" })
        {
            var root = Path.Combine(RepositoryPaths.Root, "src", project);
            foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
                         .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
            {
                var lines = File.ReadAllLines(file);
                for (var i = 0; i < lines.Length; i++)
                {
                    var code = lines[i].Split("//")[0];
                    foreach (var (pattern, why) in Forbidden)
                    {
                        if (pattern.IsMatch(code))
                            offences.Add($"{Path.GetRelativePath(RepositoryPaths.Root, file)}:{i + 1}: {why}");
                    }
                }
            }
        }
        Assert.Empty(offences);
    }
}
