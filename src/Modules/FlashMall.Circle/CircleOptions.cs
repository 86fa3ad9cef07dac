using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FlashMall.Circle;

/// <summary><c>Circle:*</c>.</summary>
internal sealed class CircleOptions
{
    public const string SectionName = "Circle";

    /// <summary>
    /// Refuse every write (posts, likes, comments, follows, reports, deletes) with 503
    /// <c>read_only</c> and keep serving reads. Read on every request, so a configuration reload
    /// applies it without a restart. (A stand-in for the <c>circle.readonly</c> operators' switch.)
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>Reports by distinct users after which a post is hidden pending review.</summary>
    [Range(1, 1000)]
    public int HideAfterReports { get; set; } = 3;
}

[OptionsValidator]
internal sealed partial class CircleOptionsValidator : IValidateOptions<CircleOptions>;
