using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace RLWorkbench.Cli;

/// <summary>
/// Numeric options parsed by the workbench rather than by System.CommandLine, so that text that is not a number
/// of the right kind, a non-finite number or one outside the allowed range is a parse error (exit code 2, before
/// anything runs) with one sentence naming the option and what it takes, never a .NET type name.
/// </summary>
public static class NumberOptions
{
    /// <summary>The option accepts values from <paramref name="min"/> to <paramref name="max"/> inclusive.</summary>
    public static Option<T> Between<T>(this Option<T> option, T min, T max)
        where T : struct, INumber<T>, IMinMaxValue<T>
    {
        option.CustomParser = result => Parse(result, option.Name, min, max) ?? default;
        return option;
    }

    /// <summary>The option, when given, accepts values from <paramref name="min"/> to <paramref name="max"/> inclusive.</summary>
    public static Option<T?> Between<T>(this Option<T?> option, T min, T max)
        where T : struct, INumber<T>, IMinMaxValue<T>
    {
        option.CustomParser = result => Parse(result, option.Name, min, max);
        return option;
    }

    /// <summary>
    /// Any value of the option's type (a finite one for fractional types): for options whose range a configuration
    /// checks, with the setting's own name, after binding.
    /// </summary>
    public static Option<T?> AnyNumber<T>(this Option<T?> option)
        where T : struct, INumber<T>, IMinMaxValue<T> => option.Between(T.MinValue, T.MaxValue);

    /// <inheritdoc cref="AnyNumber{T}(Option{T?})"/>
    public static Option<T> AnyNumber<T>(this Option<T> option)
        where T : struct, INumber<T>, IMinMaxValue<T> => option.Between(T.MinValue, T.MaxValue);

    private static T? Parse<T>(ArgumentResult result, string name, T min, T max)
        where T : struct, INumber<T>, IMinMaxValue<T>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        var whole = IsWhole<T>();
        var style = whole ? NumberStyles.Integer | NumberStyles.AllowExponent | NumberStyles.AllowThousands : NumberStyles.Float;
        if (T.TryParse(text, style, CultureInfo.InvariantCulture, out var value) && T.IsFinite(value) && value >= min && value <= max)
            return value;
        var kind = whole ? "a whole number" : "a number";
        var fullRange = min == T.MinValue && max == T.MaxValue;
        // With no range of its own, an option says its type's range only to a whole number too large for it.
        var tooLarge = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var asDouble) && double.IsFinite(asDouble) && asDouble == Math.Round(asDouble);
        var range = !fullRange || (whole && tooLarge) ? $"{kind} from {Show(min)} to {Show(max)}"
            : whole ? kind
            : "a finite number";
        result.AddError($"{name} must be {range}, got '{text}'.");
        return null;
    }

    // Integer division makes one half zero; fractional types keep it.
    private static bool IsWhole<T>()
        where T : INumber<T> => T.IsZero(T.One / (T.One + T.One));

    private static string Show<T>(T value)
        where T : INumber<T> => value switch
        {
            double d => d.ToString("#,0.###", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString("N0", CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
}
