namespace FlashMall.Cli;

/// <summary>
/// The tool's exit codes. Scripts branch on them, so each means one thing and they never change.
/// Documented in docs/OPERATIONS.md ("flashmall exit codes").
/// </summary>
public static class ExitCodes
{
    /// <summary>Done, nothing left to do.</summary>
    public const int Ok = 0;

    /// <summary>An unexpected failure (the message says what).</summary>
    public const int Failed = 1;

    /// <summary>Bad command line: unknown command or option, missing argument, bad value.</summary>
    public const int Usage = 2;

    /// <summary>A migration would drop or rewrite data and <c>--allow-destructive</c> was not given.</summary>
    public const int DestructiveRefused = 3;

    /// <summary>The database has migrations this tool does not know: it is newer than the tool.</summary>
    public const int DatabaseNewer = 4;

    /// <summary>Work is pending: <c>db status</c> with unapplied migrations, <c>config diff</c> with differences.</summary>
    public const int Pending = 5;

    /// <summary>The release failed its health gate and was rolled back to the previous one.</summary>
    public const int RolledBack = 6;

    /// <summary>A release archive is unusable: checksum mismatch, no manifest, unknown version.</summary>
    public const int BadRelease = 7;

    /// <summary>The server refused: not signed in, wrong role, a problem answer (its <c>code</c> is printed).</summary>
    public const int ServerRefused = 8;

    /// <summary>The change was recorded but waits for a second operator's approval.</summary>
    public const int AwaitingApproval = 9;

    /// <summary>The health gate failed and the rollback failed too: the service needs a human now.</summary>
    public const int RollbackFailed = 10;

    /// <summary>The server could not be reached (connection refused, timeout).</summary>
    public const int Unreachable = 11;
}

/// <summary>An error that ends the command with <see cref="Code"/> and a one-line message.</summary>
public sealed class CliException(int code, string message) : Exception(message)
{
    public int Code { get; } = code;
}
