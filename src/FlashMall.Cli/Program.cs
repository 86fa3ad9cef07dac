namespace FlashMall.Cli;

/// <summary>The <c>flashmall</c> executable (not top-level statements: the server's <c>Program</c> owns that name).</summary>
public static class EntryPoint
{
    /// <summary>Runs one command; the exit code is one of <see cref="ExitCodes"/>.</summary>
    /// <param name="args">The command line.</param>
    public static Task<int> Main(string[] args) => CliApp.RunAsync(args, Console.Out, Console.Error);
}
