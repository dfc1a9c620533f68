using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// clip_grad_norm_ applied to one group of parameters at a time, so the value side's large gradients
/// cannot shrink the policy's step through a shared global norm (the seed's single clip; issue 11 saw
/// the value gradient at about 1,500 next to a policy gradient of about 80). A group is a set of ranges
/// of the flat gradient.
/// </summary>
public static class GroupGradientClipping
{
    /// <summary>The ranges of the flat buffer holding the parameters <paramref name="member"/> picks, adjacent ones merged.</summary>
    public static IReadOnlyList<(long Offset, long Count)> Ranges(FlatParameters parameters, Func<string, bool> member)
    {
        var ranges = new List<(long Offset, long Count)>();
        foreach (var p in parameters.Parameters.Where(p => member(p.Name)).OrderBy(p => p.Offset))
        {
            if (ranges.Count > 0 && ranges[^1].Offset + ranges[^1].Count == p.Offset)
                ranges[^1] = (ranges[^1].Offset, ranges[^1].Count + p.Count);
            else
                ranges.Add((p.Offset, p.Count));
        }
        return ranges;
    }

    /// <summary>Scales the group's gradient so its 2-norm is at most <paramref name="maxNorm"/> (PyTorch's formula); returns the norm before clipping, on the device.</summary>
    public static Tensor ClipGroupNorm(Tensor gradients, IReadOnlyList<(long Offset, long Count)> ranges, double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var slices = ranges.Select(r => gradients.narrow(0, r.Offset, r.Count)).ToArray();
        var norm = slices.Length == 1 ? slices[0].norm() : stack(slices.Select(s => s.norm())).norm();
        using var tiny = 1e-6.ToScalar();
        using var max = maxNorm.ToScalar();
        using var one = 1.0.ToScalar();
        var coefficient = norm.add(tiny, one).reciprocal_().mul_(max).clamp_max_(one);
        foreach (var slice in slices)
            slice.mul_(coefficient);
        return norm.MoveToOuterDisposeScope();
    }
}
