using System.Security.Claims;
using FlashMall.Kernel.Http;

namespace FlashMall.UnitTests.Http;

public sealed class ClaimsPrincipalExtensionsTests
{
    private static ClaimsIdentity Identity(params Claim[] claims) => new(claims, "Bearer", FlashMallClaims.UserId, FlashMallClaims.Role);

    [Fact]
    public void A_remembered_principal_answers_the_same_user_id_as_its_claims()
    {
        var id = Guid.NewGuid();
        var identity = Identity(new Claim(FlashMallClaims.Role, Roles.Buyer), new Claim(FlashMallClaims.UserId, id.ToString()));

        var plain = new ClaimsPrincipal(identity);
        var remembered = new RememberedPrincipal(identity);

        Assert.Equal(id.ToString(), plain.UserIdValue());
        Assert.Equal(plain.UserIdValue(), remembered.UserIdValue());
        Assert.Equal(id, plain.UserId());
        Assert.Equal(id, remembered.UserId());
    }

    [Fact]
    public void A_principal_without_a_user_id_has_none_and_UserId_refuses_it()
    {
        var remembered = new RememberedPrincipal(Identity(new Claim(FlashMallClaims.Role, Roles.Buyer)));

        Assert.Null(remembered.UserIdValue());
        Assert.Throws<InvalidOperationException>(() => remembered.UserId());
        Assert.Throws<InvalidOperationException>(() => new ClaimsPrincipal(Identity()).UserId());
    }

    [Fact]
    public void A_user_id_that_is_not_a_guid_is_refused_as_before()
    {
        var remembered = new RememberedPrincipal(Identity(new Claim(FlashMallClaims.UserId, "not-a-guid")));

        Assert.Equal("not-a-guid", remembered.UserIdValue());
        Assert.Throws<FormatException>(() => remembered.UserId());
    }
}
