using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlashMall.Cli;

/// <summary>
/// Where a command writes. Human output goes to stdout (coloured on a terminal unless
/// <c>NO_COLOR</c> is set); with <c>--json</c> stdout holds exactly one JSON document and the
/// progress lines go to stderr, so scripts can pipe stdout into <c>jq</c>.
/// </summary>
internal sealed class Output(TextWriter stdout, TextWriter stderr, bool json)
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly bool _colour = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && !json
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    public bool Json { get; } = json;

    private TextWriter Progress => Json ? stderr : stdout;

    /// <summary>A progress line.</summary>
    public void Line(string text) => Progress.WriteLine(text);

    public void Good(string text) => Progress.WriteLine(Paint("32", text));

    public void Warn(string text) => Progress.WriteLine(Paint("33", text));

    public void Error(string text) => stderr.WriteLine(Paint("31", text));

    /// <summary>The command's result: the JSON document with <c>--json</c>, nothing otherwise.</summary>
    public void Result(object value)
    {
        if (Json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(value, JsonOptions));
        }
    }

    /// <summary>Raw text to stdout (SQL of a dry run) when not in JSON mode.</summary>
    public void Raw(string text)
    {
        if (!Json)
        {
            stdout.WriteLine(text);
        }
    }

    private string Paint(string code, string text) => _colour ? $"\u001b[{code}m{text}\u001b[0m" : text;
}
