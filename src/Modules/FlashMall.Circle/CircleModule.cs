using FlashMall.Circle.Endpoints;
using FlashMall.Circle.Persistence;
using FlashMall.Kernel.Persistence;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlashMall.Circle;

/// <summary>
/// Circle (social shopping): posts with text, linked products and up to nine images (stored by
/// the Media module through <c>IImageUploads</c>), the feed and the following feed with snapshot
/// and cursor paging, likes, comments, follows, reports that hide a post pending review, and
/// deletion by the author or an operator. Posts publish <c>PostCreated</c>, <c>PostDeleted</c>
/// and <c>PostHidden</c> through the outbox. <c>Circle:ReadOnly</c> refuses every write.
/// </summary>
public static class CircleModule
{
    public static IHostApplicationBuilder AddCircle(this IHostApplicationBuilder builder)
    {
        builder.AddModuleDbContext<CircleDbContext, CircleSqliteDbContext, CirclePostgresDbContext>(CircleDbContext.Schema);
        builder.Services.AddOptions<CircleOptions>().BindConfiguration(CircleOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CircleOptions>, CircleOptionsValidator>();
        return builder;
    }

    public static IEndpointRouteBuilder MapCircle(this IEndpointRouteBuilder routes)
    {
        routes.MapPostEndpoints();
        routes.MapFeedEndpoints();
        routes.MapInteractionEndpoints();
        routes.MapModerationEndpoints();
        return routes;
    }
}
