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
        return value.Trim().Length < minLength ? Add(field, $"At least {minLength} characters.") : this;
    }

    public Validator OptionalText(string? value, string field, int maxLength) =>
        value is not null && value.Length > maxLength ? Add(field, $"At most {maxLength} characters.") : this;

    public ProblemHttpResult ToProblem() =>
        Problems.Validation(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
}
