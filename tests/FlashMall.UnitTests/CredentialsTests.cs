using FlashMall.Accounts.Endpoints;
using FlashMall.Accounts.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace FlashMall.UnitTests;

public sealed class CredentialsTests
{
    [Theory]
    [InlineData(" Buyer@Example.COM ", "buyer@example.com")]
    [InlineData("a@b.cn", "a@b.cn")]
    [InlineData("no-at-sign.example.com", null)]
    [InlineData("two@@example.com", null)]
    [InlineData("Name <name@example.com>", null)]
    [InlineData("nodot@localhost", null)]
    [InlineData("", null)]
    public void Emails_are_validated_and_lower_cased(string input, string? expected) =>
        Assert.Equal(expected, Credentials.NormalizeEmail(input));

    [Theory]
    [InlineData("+86 138-0013-8000", "+8613800138000")]
    [InlineData("13800138000", "+8613800138000")]
    [InlineData("008613800138000", "+8613800138000")]
    [InlineData("+1 (415) 555-0100", "+14155550100")]
    [InlineData("12345", null)]
    [InlineData("4155550100", null)]
    [InlineData("+1380013800012345678", null)]
    [InlineData("138OO138000", null)]
    public void Phones_are_normalised_to_e164_with_china_as_the_default_region(string input, string? expected) =>
        Assert.Equal(expected, Credentials.NormalizePhone(input));

    [Fact]
    public async Task Password_hashes_use_owasp_iterations_and_weaker_ones_ask_for_a_rehash()
    {
        using var hashing = new PasswordHashing(Options.Create(new AccountsOptions()));
        var hash = await hashing.HashAsync("Correct-Horse-9", CancellationToken.None);
        Assert.Equal(PasswordCheck.Success, await hashing.VerifyAsync(hash, "Correct-Horse-9", CancellationToken.None));
        Assert.Equal(PasswordCheck.Failed, await hashing.VerifyAsync(hash, "correct-horse-9", CancellationToken.None));
        Assert.Equal(PasswordCheck.Failed, await hashing.VerifyAsync(null, "Correct-Horse-9", CancellationToken.None));

        var weak = new PasswordHasher<object>(Options.Create(new PasswordHasherOptions { IterationCount = 100_000 })).HashPassword(new object(), "Correct-Horse-9");
        Assert.Equal(PasswordCheck.SuccessRehashNeeded, await hashing.VerifyAsync(weak, "Correct-Horse-9", CancellationToken.None));
    }

    [Fact]
    public async Task Hashing_refuses_with_null_when_every_slot_stays_busy()
    {
        using var hashing = new PasswordHashing(Options.Create(new AccountsOptions
        {
            MaxConcurrentHashes = 1, HashingQueueTimeout = TimeSpan.FromMilliseconds(100), PasswordHashIterations = 2_000_000,
        }));
        var busy = Task.Factory.StartNew(() => hashing.HashAsync("Correct-Horse-9", CancellationToken.None).GetAwaiter().GetResult(), TaskCreationOptions.LongRunning);
        while (hashing.FreeSlots > 0)
        {
            await Task.Delay(1);
        }

        Assert.Null(await hashing.HashAsync("Correct-Horse-9", CancellationToken.None));
        Assert.NotNull(await busy);
        Assert.NotNull(await hashing.HashAsync("Correct-Horse-9", CancellationToken.None));
    }
}
