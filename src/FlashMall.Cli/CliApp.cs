using System.CommandLine;
using FlashMall.Cli.Config;
using FlashMall.Cli.Db;
using FlashMall.Cli.Release;

namespace FlashMall.Cli;

/// <summary>The command tree. Tests call <see cref="RunAsync"/> in-process, as the executable does.</summary>
public static class CliApp
{
    internal static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Machine-readable output: one JSON document on stdout (progress goes to stderr).",
        Recursive = true,
    };

    /// <summary>Parses <paramref name="args"/>, runs the command, returns its exit code (see <see cref="ExitCodes"/>).</summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="stdout">Where results and help go.</param>
    /// <param name="stderr">Where errors go.</param>
    /// <param name="cancellationToken">Stops the command.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var io = new CommandIo(stdout, stderr);
        var root = new RootCommand("flashmall: FlashMall's operators' command line (database migrations, approved switch changes, releases that roll themselves back).");
        root.Options.Add(JsonOption);
        root.Subcommands.Add(DbCommands.Create(io));
        root.Subcommands.Add(ConfigCommands.Create(io));
        root.Subcommands.Add(ReleaseCommands.Create(io));
        root.Subcommands.Add(SearchCommands.Create(io));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync(error.Message);
            }
            await stderr.WriteLineAsync($"Run 'flashmall {string.Join(' ', CommandPath(parse))} --help' for usage.".Replace("  ", " ", StringComparison.Ordinal));
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, cancellationToken);
    }

    private static List<string> CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (result.Command is not RootCommand)
            {
                names.Insert(0, result.Command.Name);
            }
        }
        return names;
    }
}

/// <summary>The writers of one invocation and the error handling every command shares.</summary>
internal sealed class CommandIo(TextWriter stdout, TextWriter stderr)
{
    /// <summary>Sets <paramref name="command"/>'s action: known failures end with their exit code and one line.</summary>
    public void Handle(Command command, Func<ParseResult, Output, CancellationToken, Task<int>> run) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = new Output(stdout, stderr, parse.GetValue(CliApp.JsonOption));
            try
            {
                return await run(parse, output, cancellationToken);
            }
            catch (CliException ex)
            {
                return Fail(output, ex.Code, ex.Message);
            }
            catch (HttpRequestException ex) when (ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError)
            {
                return Fail(output, ExitCodes.Unreachable, $"The server could not be reached: {ex.Message}");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return Fail(output, ExitCodes.Unreachable, "The server did not answer in time.");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return Fail(output, ExitCodes.Failed, $"{ex.GetType().Name}: {ex.Message}");
            }
        });

    private static int Fail(Output output, int code, string message)
    {
        output.Error(message);
        output.Result(new { error = message, exitCode = code });
        return code;
    }
}
