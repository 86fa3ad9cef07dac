namespace FlashMall.Kernel.Http;

/// <summary>Claim names in our access tokens (JWT registered names; inbound claim mapping is off).</summary>
public static class FlashMallClaims
{
    public const string UserId = "sub";
    public const string Role = "role";
}
