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

    /// <summary>
    /// E.164 (<c>+8613800138000</c>), so one number is one account however it is written:
    /// spaces, dashes and parentheses are dropped, a <c>00</c> prefix becomes <c>+</c>, and a
    /// mainland mobile number without a country code (<c>13800138000</c>) gets <c>+86</c>.
    /// Other numbers need their country code.
    /// </summary>
    public static string? NormalizePhone(string? phone)
    {
        if (string.IsNullOrWhiteSpace(phone) || phone.Length > 32)
        {
            return null;
        }
        var compact = new string([.. phone.Where(c => c is not (' ' or '-' or '(' or ')'))]);
        if (compact.StartsWith("00", StringComparison.Ordinal))
        {
            compact = "+" + compact[2..];
        }
        else if (ChinaMobilePattern().IsMatch(compact))
        {
            compact = "+86" + compact;
        }
        return E164Pattern().IsMatch(compact) ? compact : null;
    }

    /// <summary>A login is an e-mail address when it has an '@', otherwise a phone number.</summary>
    public static string? NormalizeLogin(string? login, out bool isEmail)
    {
        isEmail = login?.Contains('@', StringComparison.Ordinal) == true;
        return isEmail ? NormalizeEmail(login) : NormalizePhone(login);
    }

    [GeneratedRegex(@"^\+[1-9][0-9]{6,14}$")]
    private static partial Regex E164Pattern();

    [GeneratedRegex(@"^1[3-9][0-9]{9}$")]
    private static partial Regex ChinaMobilePattern();
}
