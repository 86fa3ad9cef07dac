using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FlashMall.CliTests.Infrastructure;

namespace FlashMall.CliTests;

/// <summary>
/// <c>flashmall config</c> against a real server process (published once) where approval is required,
/// with two operators signed in by email (the password from FLASHMALL_PASSWORD).
/// </summary>
public sealed class ConfigTests
{
    private const string Password = "Correct-Horse-9";

    private static async Task<(ServerProcess Server, TempDir Temp, string First, string Second)> StartAsync(bool demo = false)
    {
        var publish = await Builds.ServerPublishAsync();
        var temp = new TempDir();
        var admin = $"admin-{Guid.NewGuid():N}@flashmall.test";
        var server = await ServerProcess.StartAsync(publish, new Dictionary<string, string>
        {
            ["Data__Directory"] = temp["data"],
            ["Ops__RequireApproval"] = "true",
            ["RateLimiting__Enabled"] = "false",
            ["Bootstrap__AdminEmail"] = admin,
            ["Bootstrap__AdminPassword"] = Password,
            ["Demo__Seed"] = demo ? "true" : "false",
        }, temp["server.log"]);
        using var http = new HttpClient { BaseAddress = server.Url };
        var token = await LoginAsync(http, admin);
        var operators = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var email = $"op{i}-{Guid.NewGuid():N}@flashmall.test";
            var registered = await http.PostAsJsonAsync("api/accounts/register", new { email, password = Password });
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
            var userId = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("userId").GetString();
            using var grant = new HttpRequestMessage(HttpMethod.Post, $"api/admin/users/{userId}/roles") { Content = JsonContent.Create(new { roles = new[] { "operator" } }) };
            grant.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var granted = await http.SendAsync(grant);
            Assert.True(granted.IsSuccessStatusCode, await granted.Content.ReadAsStringAsync());
            operators.Add(email);
        }
        Environment.SetEnvironmentVariable("FLASHMALL_PASSWORD", Password);
        return (server, temp, operators[0], operators[1]);
    }

    private static async Task<string> LoginAsync(HttpClient http, string email)
    {
        var response = await http.PostAsJsonAsync("api/accounts/login", new { login = email, password = Password });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
    }

    [Fact]
    public async Task Search_rebuild_from_the_command_line_indexes_every_catalog_product_and_needs_an_operator()
    {
        var (server, temp, first, _) = await StartAsync(demo: true);
        await using var _ = server;
        using var __ = temp;
        using var http = new HttpClient { BaseAddress = server.Url };
        var products = (await http.GetFromJsonAsync<JsonElement>("api/products?pageSize=1")).GetProperty("total").GetInt32();
        Assert.True(products > 0, "the demo catalog is seeded");

        var rebuilt = await Tool.RunAsync(["search", "rebuild", "--server", server.Url.ToString(), "--email", first, "--json"]);
        Assert.True(rebuilt.ExitCode == 0, rebuilt.ToString());
        Assert.Equal(products, rebuilt.Json.GetProperty("documents").GetInt32());

        // A buyer may not: the tool says so with a non-zero exit and nothing runs.
        var buyer = $"buyer-{Guid.NewGuid():N}@flashmall.test";
        (await http.PostAsJsonAsync("api/accounts/register", new { email = buyer, password = Password })).EnsureSuccessStatusCode();
        var refused = await Tool.RunAsync(["search", "rebuild", "--server", server.Url.ToString(), "--email", buyer, "--json"]);
        Assert.True(refused.ExitCode != 0, refused.ToString());
    }

    [Fact]
    public async Task A_proposal_waits_for_a_second_operator_and_an_emergency_change_applies_at_once_but_shows_unapproved_until_approved()
    {
        var (server, temp, first, second) = await StartAsync();
        await using var _ = server;
        using var __ = temp;
        string[] asFirst = ["--server", server.Url.ToString(), "--email", first, "--json"];
        string[] asSecond = ["--server", server.Url.ToString(), "--email", second, "--json"];

        var diff = await Tool.RunAsync(["config", "diff", "--set", "noncore.shed=true", .. asFirst]);
        Assert.True(diff.ExitCode == 5, diff.ToString());
        Assert.Equal("noncore.shed", Assert.Single(diff.Json.GetProperty("differences").EnumerateArray()).GetProperty("switch").GetString());

        // Proposed: recorded, pending, the switch unchanged; apply reports it awaits approval (exit 9).
        var proposed = await Tool.RunAsync(["config", "propose", "--set", "noncore.shed=true", "--reason", "load drill", .. asFirst]);
        Assert.True(proposed.ExitCode == 0, proposed.ToString());
        var change = Assert.Single(proposed.Json.GetProperty("changes").EnumerateArray());
        Assert.Equal("pending", change.GetProperty("state").GetString());
        var changeId = change.GetProperty("changeId").GetString()!;
        Assert.Equal(5, (await Tool.RunAsync(["config", "diff", "--set", "noncore.shed=true", .. asFirst])).ExitCode);
        var applyWaits = await Tool.RunAsync(["config", "apply", "--set", "noncore.shed=true", "--reason", "load drill", .. asFirst]);
        Assert.True(applyWaits.ExitCode == 9, applyWaits.ToString());
        Assert.True(Assert.Single(applyWaits.Json.GetProperty("changes").EnumerateArray()).GetProperty("existing").GetBoolean());

        // The requester cannot approve it; the second operator can.
        var self = await Tool.RunAsync(["config", "approve", changeId, .. asFirst]);
        Assert.True(self.ExitCode == 8, self.ToString());
        Assert.Contains("approval_by_requester", self.Stderr, StringComparison.Ordinal);
        var approved = await Tool.RunAsync(["config", "approve", changeId, .. asSecond]);
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Equal(0, (await Tool.RunAsync(["config", "diff", "--set", "noncore.shed=true", .. asFirst])).ExitCode);

        // Emergency: applied at once even though approval is required, flagged, unapproved until a second operator approves.
        var emergency = await Tool.RunAsync(["config", "apply", "--set", "circle.readonly=true", "--reason", "spam wave", "--emergency", .. asFirst]);
        Assert.True(emergency.ExitCode == 0, emergency.ToString());
        var applied = Assert.Single(emergency.Json.GetProperty("changes").EnumerateArray());
        Assert.Equal("applied", applied.GetProperty("state").GetString());
        Assert.True(applied.GetProperty("unapproved").GetBoolean());
        var emergencyId = applied.GetProperty("changeId").GetString()!;
        Assert.Equal(0, (await Tool.RunAsync(["config", "diff", "--set", "circle.readonly=true", .. asFirst])).ExitCode);

        var unapproved = await Tool.RunAsync(["config", "pending", "--status", "unapproved", .. asSecond]);
        var listed = Assert.Single(unapproved.Json.GetProperty("items").EnumerateArray());
        Assert.Equal(emergencyId, listed.GetProperty("id").GetString());
        Assert.Equal("unapproved", listed.GetProperty("approval").GetString());
        Assert.True(listed.GetProperty("emergency").GetBoolean());

        var history = await Tool.RunAsync(["config", "history", .. asSecond]);
        Assert.Contains(history.Json.GetProperty("items").EnumerateArray(),
            a => a.GetProperty("changeId").GetString() == emergencyId && a.GetProperty("action").GetString() == "applied" && a.GetProperty("emergency").GetBoolean());

        Assert.Equal(8, (await Tool.RunAsync(["config", "approve", emergencyId, .. asFirst])).ExitCode);
        var approvedAfter = await Tool.RunAsync(["config", "approve", "--all", .. asSecond]);
        Assert.True(approvedAfter.ExitCode == 0, approvedAfter.ToString());
        Assert.Single(approvedAfter.Json.GetProperty("approved").EnumerateArray());
        Assert.Empty((await Tool.RunAsync(["config", "pending", .. asSecond])).Json.GetProperty("items").EnumerateArray());
        var all = await Tool.RunAsync(["config", "pending", "--status", "all", .. asSecond]);
        Assert.Equal("approved", all.Json.GetProperty("items").EnumerateArray().Single(c => c.GetProperty("id").GetString() == emergencyId).GetProperty("approval").GetString());
        var audit = await Tool.RunAsync(["config", "history", .. asSecond]);
        Assert.Contains(audit.Json.GetProperty("items").EnumerateArray(),
            a => a.GetProperty("changeId").GetString() == emergencyId && a.GetProperty("action").GetString() == "approved");
    }

    [Fact]
    public async Task Without_credentials_or_server_the_tool_says_so_with_distinct_exit_codes()
    {
        Environment.SetEnvironmentVariable("FLASHMALL_TOKEN", null);
        Environment.SetEnvironmentVariable("FLASHMALL_EMAIL", null);
        var unsigned = await Tool.RunAsync("config", "history", "--server", "http://127.0.0.1:9/");
        Assert.Equal(2, unsigned.ExitCode);
        Assert.Contains("FLASHMALL_TOKEN", unsigned.Stderr, StringComparison.Ordinal);
        Environment.SetEnvironmentVariable("FLASHMALL_TOKEN", "not-a-real-token");
        try
        {
            var unreachable = await Tool.RunAsync("config", "history", "--server", $"http://127.0.0.1:{Ports.Free()}/", "--json");
            Assert.Equal(11, unreachable.ExitCode);
            Assert.Equal(11, unreachable.Json.GetProperty("exitCode").GetInt32());
            Assert.DoesNotContain("not-a-real-token", unreachable.All, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("FLASHMALL_TOKEN", null);
        }
    }
}
