using Microsoft.AspNetCore.Http.HttpResults;

namespace FlashMall.Kernel.Problems;

/// <summary>
/// Collects per-field errors for one request. Handlers validate explicitly, so what is checked
/// is visible next to what is done, and nothing is written unless <see cref="IsValid"/>.
/// </summary>
public sealed class Validator
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsValid => _errors.Count == 0;

    public Validator Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            list = [];
            _errors[field] = list;
        }
        list.Add(message);
        return this;
    }

    public Validator Require(bool condition, string field, string message) => condition ? this : Add(field, message);

    public Validator RequiredText(string? value, string field, int maxLength, int minLength = 1)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return minLength > 0 ? Add(field, "Required.") : this;
        }
        if (value.Length > maxLength)
        {
            return Add(field, $"At most {maxLength} characters.");
        }
        if (HasControlCharacters(value))
        {
            return Add(field, "Control characters are not allowed.");
        }
        return value.Trim().Length < minLength ? Add(field, $"At least {minLength} characters.") : this;
    }

    public Validator OptionalText(string? value, string field, int maxLength) => value switch
    {
        null => this,
        _ when value.Length > maxLength => Add(field, $"At most {maxLength} characters."),
        _ when HasControlCharacters(value) => Add(field, "Control characters are not allowed."),
        _ => this,
    };

    /// <summary>
    /// NUL and other C0/C1 controls (tabs and line breaks excepted), and Unicode bidirectional
    /// overrides: no shop text needs them, PostgreSQL refuses NUL, and overrides disguise text.
    /// </summary>
    public static bool HasControlCharacters(string value) =>
        value.AsSpan().IndexOfAny(ForbiddenCharacters) >= 0;

    private static readonly System.Buffers.SearchValues<char> ForbiddenCharacters = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 32).Where(c => c is not ('\t' or '\n' or '\r')).Select(c => (char)c),
         .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c),
         '\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069']);

    public ProblemHttpResult ToProblem() =>
        Problems.Validation(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
}
