using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlashMall.ApiTests.Infrastructure;

namespace FlashMall.ApiTests;

/// <summary>
/// Emergency switch changes where approval is required: applied at once, flagged in the audit,
/// listed as unapproved until a different operator approves them afterwards.
/// </summary>
public sealed class EmergencyChangeTests(ApprovalFactory factory) : IClassFixture<ApprovalFactory>
{
    [Fact]
    public async Task An_emergency_change_applies_at_once_and_shows_unapproved_until_a_different_operator_approves_it()
    {
        var requester = await factory.NewUserAsync("operator");
        var approver = await factory.NewUserAsync("operator");

        // Without a reason: refused, nothing recorded.
        var before = (await (await requester.Client.GetAsync("/api/admin/changes?status=all&pageSize=100")).JsonAsync()).GetProperty("total").GetInt32();
        await (await requester.Client.PutAsJsonAsync("/api/admin/switches/circle.readonly", new { enabled = true, emergency = true }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(before, (await (await requester.Client.GetAsync("/api/admin/changes?status=all&pageSize=100")).JsonAsync()).GetProperty("total").GetInt32());

        var applied = await (await requester.Client.PutAsJsonAsync("/api/admin/switches/circle.readonly",
            new { enabled = true, reason = "spam wave: stop writes now", emergency = true })).JsonAsync(HttpStatusCode.OK);
        Assert.True(applied.GetProperty("enabled").GetBoolean());
        Assert.True(applied.GetProperty("emergency").GetBoolean());
        Assert.True(applied.GetProperty("unapproved").GetBoolean());
        var changeId = applied.GetProperty("changeId").GetString()!;
        Assert.True((await requester.Client.SwitchAsync("circle.readonly")).GetProperty("enabled").GetBoolean());

        var unapproved = await (await approver.Client.GetAsync("/api/admin/changes?status=unapproved")).JsonAsync();
        var listed = Assert.Single(unapproved.GetProperty("items").EnumerateArray());
        Assert.Equal(changeId, listed.GetProperty("id").GetString());
        Assert.Equal("unapproved", listed.GetProperty("approval").GetString());
        Assert.Equal("applied", listed.GetProperty("status").GetString());
        Assert.Empty((await (await approver.Client.GetAsync("/api/admin/changes?status=pending")).JsonAsync()).GetProperty("items").EnumerateArray());

        var audit = (await (await approver.Client.GetAsync("/api/admin/audit?pageSize=100")).JsonAsync()).GetProperty("items").EnumerateArray()
            .Where(a => a.GetProperty("changeId").GetString() == changeId).ToList();
        Assert.Equal(["applied", "requested"], audit.Select(a => a.GetProperty("action").GetString()).Order());
        Assert.All(audit, a => Assert.True(a.GetProperty("emergency").GetBoolean()));
        Assert.All(audit, a => Assert.Equal(JsonValueKind.Null, a.GetProperty("approvedBy").ValueKind));

        // The requester cannot approve it; a different operator can, once; the switch stays as it is.
        await (await requester.Client.PostAsync($"/api/admin/changes/{changeId}/approve", null))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "approval_by_requester");
        var approved = await (await approver.Client.PostAsync($"/api/admin/changes/{changeId}/approve", null)).JsonAsync();
        Assert.False(approved.GetProperty("unapproved").GetBoolean());
        Assert.True(approved.GetProperty("enabled").GetBoolean());
        await (await approver.Client.PostAsync($"/api/admin/changes/{changeId}/approve", null))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "change_not_pending");
        Assert.Empty((await (await approver.Client.GetAsync("/api/admin/changes?status=awaiting")).JsonAsync()).GetProperty("items").EnumerateArray());
        var all = await (await approver.Client.GetAsync("/api/admin/changes?status=all&pageSize=100")).JsonAsync();
        var done = all.GetProperty("items").EnumerateArray().Single(c => c.GetProperty("id").GetString() == changeId);
        Assert.Equal("approved", done.GetProperty("approval").GetString());
        Assert.Equal(approver.UserId, done.GetProperty("approvedBy").GetString());
        var approvedEntry = (await (await approver.Client.GetAsync("/api/admin/audit?pageSize=100")).JsonAsync()).GetProperty("items").EnumerateArray()
            .Single(a => a.GetProperty("changeId").GetString() == changeId && a.GetProperty("action").GetString() == "approved");
        Assert.Equal(approver.UserId, approvedEntry.GetProperty("actor").GetString());
        Assert.True(approvedEntry.GetProperty("emergency").GetBoolean());

        // An ordinary change still waits, listed as pending.
        var waiting = (await (await requester.Client.SetAsync("circle.readonly", false, "spam over")).JsonAsync(HttpStatusCode.Accepted)).GetProperty("changeId").GetString();
        var pending = await (await approver.Client.GetAsync("/api/admin/changes?status=pending")).JsonAsync();
        Assert.Equal(waiting, Assert.Single(pending.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal("pending", pending.GetProperty("items")[0].GetProperty("approval").GetString());
        Assert.True((await requester.Client.SwitchAsync("circle.readonly")).GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task The_changes_list_refuses_an_unknown_status_and_needs_an_operator()
    {
        var op = await factory.NewUserAsync("operator");
        var buyer = await factory.NewUserAsync();
        await (await op.Client.GetAsync("/api/admin/changes?status=bogus")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_status");
        Assert.Equal(HttpStatusCode.Forbidden, (await buyer.Client.GetAsync("/api/admin/changes")).StatusCode);
    }
}
