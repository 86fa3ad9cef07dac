using System.CommandLine;
using System.Text.Json;
using FlashMall.Cli.Config;

namespace FlashMall.Cli;

/// <summary><c>flashmall search rebuild</c>: the full index rebuild (a new index, then a swap; searches keep answering).</summary>
internal static class SearchCommands
{
    public static Command Create(CommandIo io)
    {
        var search = new Command("search", "The product search index.");
        var rebuild = new Command("rebuild", "Rebuilds the search index from the catalog on a running server (POST /api/admin/search/rebuild), without downtime. Exit 8 when a rebuild is already running (code search_rebuild_running).");
        AdminClient.AddOptions(rebuild);
        rebuild.Options.Add(new Option<int>("--timeout-seconds") { Description = "How long to wait for the rebuild (default 600).", DefaultValueFactory = _ => 600 });
        io.Handle(rebuild, async (parse, output, ct) =>
        {
            using var client = await AdminClient.SignInAsync(parse, ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(parse.GetValue<int>("--timeout-seconds")));
            output.Line($"Rebuilding the search index on {client.BaseAddress} …");
            var answer = await client.SendAsync<JsonElement>(HttpMethod.Post, "api/admin/search/rebuild", new { }, timeout.Token);
            output.Good($"Rebuilt: {answer}");
            output.Result(answer);
            return ExitCodes.Ok;
        });
        search.Subcommands.Add(rebuild);
        return search;
    }
}
