using System.Net.Mail;
using System.Text.RegularExpressions;

namespace FlashMall.Accounts.Endpoints;

/// <summary>How e-mail addresses, phone numbers and passwords are accepted and normalised.</summary>
internal static partial class Credentials
{
    public const int MinPasswordLength = 8;
    /// <summary>Long enough for passphrases, short enough that hashing cost stays bounded.</summary>
    public const int MaxPasswordLength = 128;
    public const int MaxEmailLength = 254;
    public const int MaxNicknameLength = 32;

    public static string? NormalizeEmail(string? email)
    {
        if (string.IsNullOrWhiteSpace(email) || email.Length > MaxEmailLength)
        {
            return null;
        }
        var trimmed = email.Trim();
        return MailAddress.TryCreate(trimmed, out var parsed) && parsed.Address == trimmed && trimmed.Contains('.', StringComparison.Ordinal)
            ? trimmed.ToLowerInvariant()
            : null;
    }

    public static string? NormalizePhone(string? phone)
    {
        if (string.IsNullOrWhiteSpace(phone) || phone.Length > 32)
        {
            return null;
        }
        var compact = phone.Trim().Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        return PhonePattern().IsMatch(compact) ? compact : null;
    }

    /// <summary>A login is an e-mail address when it has an '@', otherwise a phone number.</summary>
    public static string? NormalizeLogin(string? login, out bool isEmail)
    {
        isEmail = login?.Contains('@', StringComparison.Ordinal) == true;
        return isEmail ? NormalizeEmail(login) : NormalizePhone(login);
    }

    [GeneratedRegex(@"^\+?[0-9]{6,15}$")]
    private static partial Regex PhonePattern();
}
