using FlashMall.Contracts.Ops;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlashMall.Circle.Endpoints;

internal static class ReadOnlyFilter
{
    public const string ReadOnly = "read_only";

    /// <summary>
    /// 503 <c>read_only</c> while <c>Circle:ReadOnly</c> is on or the runtime switch
    /// <c>circle.readonly</c> is (either one suffices), checked per request so a configuration
    /// reload or a switch change takes effect at once.
    /// </summary>
    public static TBuilder RefusedWhileReadOnly<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
            context.HttpContext.RequestServices.GetRequiredService<IOptionsMonitor<CircleOptions>>().CurrentValue.ReadOnly
                || context.HttpContext.RequestServices.GetService<ISwitches>()?.IsOn(SwitchNames.CircleReadOnly) == true
                ? Problems.Create(StatusCodes.Status503ServiceUnavailable, ReadOnly, "Read-only",
                    "The circle is read-only for now: posts, likes and comments can be read but not written.")
                : await next(context));
}
