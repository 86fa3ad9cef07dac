using FlashMall.Accounts.Security;
using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlashMall.UnitTests;

public sealed class SigningKeyStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flashmall-unit", Guid.NewGuid().ToString("N"));

    [Fact]
    public void Without_a_configured_key_one_is_generated_once_owner_only_and_reused()
    {
        var data = new DataOptions { Directory = _directory };
        var first = SigningKeyStore.Load(new JwtOptions(), data, NullLogger.Instance);
        var second = SigningKeyStore.Load(new JwtOptions(), data, NullLogger.Instance);

        Assert.Equal(64, first.Key.Length);
        Assert.Equal(first.Key, second.Key);
        var file = Directory.GetFiles(Path.Combine(_directory, "keys")).Single();
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public void Configured_key_is_used_and_nothing_is_written()
    {
        var key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var loaded = SigningKeyStore.Load(new JwtOptions { SigningKey = key }, new DataOptions { Directory = _directory }, NullLogger.Instance);
        Assert.Equal(Convert.FromBase64String(key), loaded.Key);
        Assert.False(Directory.Exists(Path.Combine(_directory, "keys")));
    }

    [Theory]
    [InlineData("c2hvcnQ=")]
    [InlineData("not base64 at all!")]
    public void Weak_or_malformed_configured_key_fails_validation(string key)
    {
        var result = new JwtSigningKeyValidator().Validate(null, new JwtOptions { SigningKey = key });
        Assert.True(result.Failed);
        Assert.Contains("Jwt:SigningKey", result.FailureMessage, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void Options_defaults_validate()
    {
        Assert.True(new JwtOptionsValidator().Validate(null, new JwtOptions()).Succeeded);
        Assert.True(new AccountsOptionsValidator().Validate(null, new AccountsOptions()).Succeeded);
        Assert.True(new AccountsOptionsValidator().Validate(null, new AccountsOptions { PasswordHashIterations = 100_000 }).Failed);
    }
}
