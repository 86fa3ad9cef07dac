using System.Net;
using System.Net.Http.Json;
using FlashMall.Accounts.Persistence;
using FlashMall.ApiTests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.ApiTests;

public sealed class AccountTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    private static string NewEmail() => $"buyer-{Guid.NewGuid():N}@flashmall.test";

    [Fact]
    public async Task Register_login_and_me_round_trip()
    {
        using var client = factory.CreateClient();
        var email = NewEmail();
        var registered = await (await client.PostAsJsonAsync("/api/accounts/register", new { email, password = "Sale-At-20:00", nickname = "小明" }))
            .JsonAsync(HttpStatusCode.Created);
        var tokens = await factory.LoginAsync(email.ToUpperInvariant(), "Sale-At-20:00");
        Assert.True(tokens.ExpiresIn is > 0 and <= 3600);

        using var signedIn = factory.ClientWithToken(tokens.AccessToken);
        var me = await (await signedIn.GetAsync("/api/accounts/me")).JsonAsync();
        Assert.Equal(registered.GetProperty("userId").GetString(), me.GetProperty("userId").GetString());
        Assert.Equal(email, me.GetProperty("email").GetString());
        Assert.Equal("小明", me.GetProperty("nickname").GetString());
        Assert.Equal(new[] { "buyer" }, me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToArray());
    }

    [Fact]
    public async Task Register_by_phone_then_login_by_phone()
    {
        using var client = factory.CreateClient();
        var phone = $"+86139{Random.Shared.Next(10_000_000, 99_999_999)}";
        await (await client.PostAsJsonAsync("/api/accounts/register", new { phone, password = "Phone-Buyer-1" })).EnsureStatusAsync(HttpStatusCode.Created);
        var tokens = await factory.LoginAsync(phone, "Phone-Buyer-1");
        using var signedIn = factory.ClientWithToken(tokens.AccessToken);
        var me = await (await signedIn.GetAsync("/api/accounts/me")).JsonAsync();
        Assert.Equal(phone, me.GetProperty("phone").GetString());
    }

    [Fact]
    public async Task Registering_the_same_email_twice_is_409_account_exists_and_creates_nothing()
    {
        using var client = factory.CreateClient();
        var email = NewEmail();
        await (await client.PostAsJsonAsync("/api/accounts/register", new { email, password = "First-Password-1" })).EnsureStatusAsync(HttpStatusCode.Created);
        await (await client.PostAsJsonAsync("/api/accounts/register", new { email = email.ToUpperInvariant(), password = "Second-Password-2" }))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "account_exists");
        Assert.Equal(1, await CountUsersAsync(email));
        await factory.LoginAsync(email, "First-Password-1");
    }

    [Theory]
    [InlineData("not-an-email", "Long-Enough-1", "email")]
    [InlineData("ok@flashmall.test", "short", "password")]
    [InlineData("ok@flashmall.test", null, "password")]
    public async Task Invalid_registration_is_400_with_field_errors_and_creates_nothing(string email, string? password, string field)
    {
        using var client = factory.CreateClient();
        var problem = await (await client.PostAsJsonAsync("/api/accounts/register", new { email, password }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
        Assert.Equal(0, await CountUsersAsync(email));
    }

    [Fact]
    public async Task Overlong_password_is_refused_before_hashing()
    {
        using var client = factory.CreateClient();
        var email = NewEmail();
        var problem = await (await client.PostAsJsonAsync("/api/accounts/register", new { email, password = new string('x', 129) }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("password", out _));
        Assert.Equal(0, await CountUsersAsync(email));
    }

    [Fact]
    public async Task Wrong_password_and_unknown_account_answer_the_same_401()
    {
        var user = await factory.NewUserAsync();
        using var client = factory.CreateClient();
        await (await client.PostAsJsonAsync("/api/accounts/login", new { login = user.Email, password = "wrong-password" }))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_credentials");
        await (await client.PostAsJsonAsync("/api/accounts/login", new { login = NewEmail(), password = "wrong-password" }))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_credentials");
    }

    [Fact]
    public async Task Account_locks_after_five_wrong_passwords_even_for_the_right_one()
    {
        var user = await factory.NewUserAsync();
        using var client = factory.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            await (await client.PostAsJsonAsync("/api/accounts/login", new { login = user.Email, password = $"guess-{i}-wrong" }))
                .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_credentials");
        }

        var locked = await client.PostAsJsonAsync("/api/accounts/login", new { login = user.Email, password = user.Password });
        await locked.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "account_locked");
        Assert.True(int.Parse(locked.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task Refresh_rotates_and_a_reused_refresh_token_revokes_the_family()
    {
        var user = await factory.NewUserAsync();
        using var client = factory.CreateClient();

        var first = await (await client.PostAsJsonAsync("/api/accounts/refresh", new { refreshToken = user.Tokens.RefreshToken })).JsonAsync();
        var second = first.GetProperty("refreshToken").GetString()!;
        Assert.NotEqual(user.Tokens.RefreshToken, second);
        using (var rotated = factory.ClientWithToken(first.GetProperty("accessToken").GetString()!))
        {
            await (await rotated.GetAsync("/api/accounts/me")).EnsureStatusAsync(HttpStatusCode.OK);
        }

        // The old token comes back (stolen or replayed): refused, and the whole family ends.
        await (await client.PostAsJsonAsync("/api/accounts/refresh", new { refreshToken = user.Tokens.RefreshToken }))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_refresh_token");
        await (await client.PostAsJsonAsync("/api/accounts/refresh", new { refreshToken = second }))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_refresh_token");
    }

    [Fact]
    public async Task Unknown_refresh_token_is_401()
    {
        using var client = factory.CreateClient();
        await (await client.PostAsJsonAsync("/api/accounts/refresh", new { refreshToken = "not-a-real-token" }))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_refresh_token");
    }

    [Fact]
    public async Task Admin_grants_a_role_that_the_next_token_carries()
    {
        var user = await factory.NewUserAsync("merchandiser");
        var me = await (await user.Client.GetAsync("/api/accounts/me")).JsonAsync();
        Assert.Equal(new[] { "buyer", "merchandiser" }, me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToArray());
    }

    [Fact]
    public async Task Setting_an_unknown_role_is_400_and_changes_nothing()
    {
        var user = await factory.NewUserAsync();
        using var admin = await factory.AdminClientAsync();
        await (await admin.PostAsJsonAsync($"/api/admin/users/{user.UserId}/roles", new { roles = new[] { "superuser" } }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var me = await (await user.Client.GetAsync("/api/accounts/me")).JsonAsync();
        Assert.Single(me.GetProperty("roles").EnumerateArray());
    }

    [Fact]
    public async Task A_buyer_cannot_grant_roles()
    {
        var user = await factory.NewUserAsync();
        await (await user.Client.PostAsJsonAsync($"/api/admin/users/{user.UserId}/roles", new { roles = new[] { "admin" } }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task Bootstrapped_admin_has_the_admin_role()
    {
        using var admin = await factory.AdminClientAsync();
        var me = await (await admin.GetAsync("/api/accounts/me")).JsonAsync();
        Assert.Contains("admin", me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task Hash_from_weaker_settings_is_upgraded_on_login()
    {
        var user = await factory.NewUserAsync();
        var weak = new PasswordHasher<object>(Microsoft.Extensions.Options.Options.Create(new PasswordHasherOptions { IterationCount = 100_000 }))
            .HashPassword(new object(), user.Password);
        await factory.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<AccountsDbContext>();
            return await db.Users.Where(u => u.Email == user.Email).ExecuteUpdateAsync(s => s.SetProperty(u => u.PasswordHash, weak));
        });

        await factory.LoginAsync(user.Email, user.Password);

        var stored = await factory.WithScopeAsync(services =>
            services.GetRequiredService<AccountsDbContext>().Users.Where(u => u.Email == user.Email).Select(u => u.PasswordHash).SingleAsync());
        Assert.NotEqual(weak, stored);
        // Identity v3 format: 0x01, PRF, iteration count (big-endian) at bytes 5..8.
        var bytes = Convert.FromBase64String(stored);
        Assert.Equal(210_000, (bytes[5] << 24) | (bytes[6] << 16) | (bytes[7] << 8) | bytes[8]);
    }

    [Fact]
    public async Task Password_never_reaches_the_logs()
    {
        const string secret = "Very-Secret-Passphrase-42";
        var email = NewEmail();
        using var client = factory.CreateClient();
        await (await client.PostAsJsonAsync("/api/accounts/register", new { email, password = secret })).EnsureStatusAsync(HttpStatusCode.Created);
        await factory.LoginAsync(email, secret);
        await (await client.PostAsJsonAsync("/api/accounts/login", new { login = email, password = secret + "-wrong" }))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_credentials");

        Assert.NotEmpty(factory.Logs.Lines);
        Assert.DoesNotContain(secret, factory.Logs.All, StringComparison.Ordinal);
    }

    private Task<int> CountUsersAsync(string email)
    {
        var normalized = email.ToLowerInvariant();
        return factory.WithScopeAsync(services => services.GetRequiredService<AccountsDbContext>().Users.CountAsync(u => u.Email == normalized));
    }
}
