using FlashMall.Contracts.Ops;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace FlashMall.Ops.Switches;

/// <summary>
/// While <c>noncore.shed</c> is on, a request routed to an endpoint tagged
/// <see cref="TrafficClass.NonCore"/> is answered 503 <c>degraded</c> with <c>Retry-After</c>
/// before it reaches its handler; every other request passes with one snapshot lookup.
/// </summary>
internal sealed class NonCoreShedding(RequestDelegate next, ISwitches switches, IOptions<OpsOptions> options)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!switches.IsOn(SwitchNames.NonCoreShed) || TrafficClass.Of(context) != TrafficClass.NonCore)
        {
            return next(context);
        }
        context.Response.Headers.RetryAfter = options.Value.ShedRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems.Create(StatusCodes.Status503ServiceUnavailable, ProblemCodes.Degraded, "Degraded",
            "This feature is switched off for now so buying and paying keep their capacity; try again later.").ExecuteAsync(context);
    }
}
