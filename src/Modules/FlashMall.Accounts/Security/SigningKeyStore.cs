using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace FlashMall.Accounts.Security;

/// <summary>
/// The HMAC key that signs access tokens: from <c>Jwt:SigningKey</c>, or generated once and kept
/// under the data folder (readable by the owner only). Several nodes must share a configured key.
/// </summary>
internal static partial class SigningKeyStore
{
    public const int MinKeyBytes = 32;
    private const string KeyFileName = "jwt-signing.key";

    public static SymmetricSecurityKey Load(JwtOptions jwt, DataOptions data, ILogger logger)
    {
        if (!string.IsNullOrWhiteSpace(jwt.SigningKey))
        {
            return new SymmetricSecurityKey(Decode(jwt.SigningKey, "Jwt:SigningKey"));
        }

        var (secret, generated) = SecretFiles.LoadOrCreate(data, KeyFileName, 64, out var path);
        if (generated)
        {
            LogGenerated(logger, path);
        }
        return new SymmetricSecurityKey(Decode(secret, path));
    }

    private static byte[] Decode(string base64, string source)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new OptionsValidationException(JwtOptions.SectionName, typeof(JwtOptions), [$"{source} is not valid base64."]);
        }
        return key.Length >= MinKeyBytes
            ? key
            : throw new OptionsValidationException(JwtOptions.SectionName, typeof(JwtOptions), [$"{source} must decode to at least {MinKeyBytes} bytes."]);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generated a token signing key at {Path}; configure Jwt:SigningKey when running more than one node")]
    private static partial void LogGenerated(ILogger logger, string path);
}
