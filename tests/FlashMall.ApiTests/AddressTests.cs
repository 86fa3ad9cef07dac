using System.Net;
using System.Net.Http.Json;
using FlashMall.ApiTests.Infrastructure;

namespace FlashMall.ApiTests;

public sealed class AddressTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    private static readonly object Home = new { name = "张三", phone = "13800138000", line1 = "建国路 88 号", city = "北京", region = "北京市", postcode = "100022" };

    [Fact]
    public async Task Owner_creates_lists_reads_and_deletes_an_address()
    {
        var buyer = await factory.NewUserAsync();
        var created = await (await buyer.Client.PostAsJsonAsync("/api/accounts/addresses", Home)).JsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString();
        Assert.Equal("张三", created.GetProperty("name").GetString());

        var list = await (await buyer.Client.GetAsync("/api/accounts/addresses")).JsonAsync();
        Assert.Equal(id, list[0].GetProperty("id").GetString());
        await (await buyer.Client.GetAsync($"/api/accounts/addresses/{id}")).EnsureStatusAsync(HttpStatusCode.OK);
        await (await buyer.Client.DeleteAsync($"/api/accounts/addresses/{id}")).EnsureStatusAsync(HttpStatusCode.NoContent);
        await (await buyer.Client.GetAsync($"/api/accounts/addresses/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Another_users_address_is_404_not_403_and_cannot_be_deleted()
    {
        var owner = await factory.NewUserAsync();
        var other = await factory.NewUserAsync();
        var id = (await (await owner.Client.PostAsJsonAsync("/api/accounts/addresses", Home)).JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString();

        await (await other.Client.GetAsync($"/api/accounts/addresses/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await other.Client.DeleteAsync($"/api/accounts/addresses/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Equal(0, (await (await other.Client.GetAsync("/api/accounts/addresses")).JsonAsync()).GetArrayLength());
        await (await owner.Client.GetAsync($"/api/accounts/addresses/{id}")).EnsureStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Invalid_address_is_400_with_field_errors_and_writes_nothing()
    {
        var buyer = await factory.NewUserAsync();
        var problem = await (await buyer.Client.PostAsJsonAsync("/api/accounts/addresses", new { name = "", phone = "call me", line1 = new string('路', 201) }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "name", "phone", "line1", "city", "region" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}");
        }
        Assert.Equal(0, (await (await buyer.Client.GetAsync("/api/accounts/addresses")).JsonAsync()).GetArrayLength());
    }
}
