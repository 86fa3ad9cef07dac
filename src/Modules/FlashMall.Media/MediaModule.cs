using FlashMall.Contracts.Media;
using FlashMall.Media.Endpoints;
using FlashMall.Media.Images;
using FlashMall.Media.Storage;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlashMall.Media;

/// <summary>
/// Media: the image upload pipeline other modules use through <see cref="IImageUploads"/>
/// (streamed, size-, format- and pixel-checked, re-encoded without metadata in three sizes,
/// content-addressed), the blob store behind it (a folder under <c>Data:Directory</c>, or an S3-compatible bucket), and
/// <c>GET /media/{name}</c> with immutable caching for browsers and a CDN.
/// </summary>
public static class MediaModule
{
    public static IHostApplicationBuilder AddMedia(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MediaOptions>().BindConfiguration(MediaOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MediaOptions>, MediaOptionsDataValidator>();
        services.AddSingleton<IValidateOptions<MediaOptions>, MediaOptionsValidator>();
        services.AddSingleton<MediaUrls>();
        if (builder.Configuration[$"{MediaOptions.SectionName}:{nameof(MediaOptions.Store)}"] == MediaStores.S3)
        {
            services.AddSingleton(provider => S3BlobStore.CreateClient(provider.GetRequiredService<IOptions<MediaOptions>>().Value.S3));
            services.AddSingleton<IBlobStore, S3BlobStore>();
        }
        else
        {
            services.AddSingleton<IBlobStore, FileSystemBlobStore>();
        }
        services.AddSingleton<IImageUploads, ImagePipeline>();
        services.AddHostedService<StagingSweeper>();
        return builder;
    }

    public static IEndpointRouteBuilder MapMedia(this IEndpointRouteBuilder routes)
    {
        routes.MapMediaEndpoints();
        return routes;
    }
}
