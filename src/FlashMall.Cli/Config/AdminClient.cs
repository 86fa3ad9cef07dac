using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace FlashMall.Cli.Config;

/// <summary>
/// A signed-in client of a running server's admin API. The token comes from <c>FLASHMALL_TOKEN</c>,
/// or from signing in as <c>--email</c> (env <c>FLASHMALL_EMAIL</c>) with the password in
/// <c>FLASHMALL_PASSWORD</c> (never an option: command lines show up in <c>ps</c>). Tokens are never printed.
/// </summary>
internal sealed class AdminClient : IDisposable
{
    public static readonly Option<string?> ServerOption = new("--server")
    {
        Description = "The server's base URL (default: env FLASHMALL_SERVER, else http://127.0.0.1:8080).",
    };

    public static readonly Option<string?> EmailOption = new("--email")
    {
        Description = "Sign in as this operator (default: env FLASHMALL_EMAIL); the password comes from env FLASHMALL_PASSWORD. Without it, env FLASHMALL_TOKEN is the bearer token.",
    };

    private readonly HttpClient _http;

    private AdminClient(HttpClient http) => _http = http;

    public Uri BaseAddress => _http.BaseAddress!;

    public static void AddOptions(Command command)
    {
        command.Options.Add(ServerOption);
        command.Options.Add(EmailOption);
    }

    public static async Task<AdminClient> SignInAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var server = parse.GetValue(ServerOption) ?? Env("FLASHMALL_SERVER") ?? "http://127.0.0.1:8080";
        if (!Uri.TryCreate(server.TrimEnd('/') + "/", UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Usage, $"--server must be an http(s) URL, not '{server}'.");
        }
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(15) };
        var client = new AdminClient(http);
        try
        {
            var email = parse.GetValue(EmailOption) ?? Env("FLASHMALL_EMAIL");
            string token;
            if (email is not null)
            {
                var password = Env("FLASHMALL_PASSWORD")
                    ?? throw new CliException(ExitCodes.Usage, "Signing in with --email needs the password in the environment variable FLASHMALL_PASSWORD.");
                var login = await client.SendAsync<JsonElement>(HttpMethod.Post, "api/accounts/login", new { login = email, password }, cancellationToken);
                token = login.GetProperty("accessToken").GetString()!;
            }
            else
            {
                token = Env("FLASHMALL_TOKEN")
                    ?? throw new CliException(ExitCodes.Usage, "Not signed in: set FLASHMALL_TOKEN, or give --email with the password in FLASHMALL_PASSWORD.");
            }
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public Task<T> GetAsync<T>(string path, CancellationToken cancellationToken) => SendAsync<T>(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>Sends; a refusal becomes <see cref="ExitCodes.ServerRefused"/> with the problem's status, code and detail.</summary>
    public async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        var (status, json) = await SendRawAsync(method, path, body, cancellationToken);
        _ = status;
        return json.Deserialize<T>(Output.JsonOptions)!;
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> SendRawAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await _http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonElement json = default;
        if (text.Length > 0)
        {
            try
            {
                json = JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
                json = default;
            }
        }
        if (!response.IsSuccessStatusCode)
        {
            var code = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("code", out var c) ? c.GetString() : null;
            var detail = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("detail", out var d) ? d.GetString() : null;
            throw new CliException(ExitCodes.ServerRefused,
                $"{method} /{path.Split('?')[0]} was refused: HTTP {(int)response.StatusCode}{(code is null ? "" : $" {code}")}{(detail is null ? "" : $": {detail}")}");
        }
        return (response.StatusCode, json);
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    public void Dispose() => _http.Dispose();
}
