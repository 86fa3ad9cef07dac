using System.CommandLine;
using System.Text.Json;

namespace FlashMall.Cli.Config;

/// <summary>
/// <c>flashmall config diff | propose | apply | approve | pending | history</c>: the runtime switches of a
/// running server, changed through its admin API with the same approval rules as the API (a second
/// operator approves; <c>--emergency --reason</c> applies at once, audited as an emergency, shown
/// unapproved until a different operator approves it).
/// </summary>
internal static class ConfigCommands
{
    private sealed record SwitchState(string Name, bool Enabled, string Description);

    private sealed record Difference(string Switch, bool Current, bool Desired);

    private sealed record ChangeState(string Id, string Switch, bool Enabled, string Reason, string Status, bool Emergency, string Approval, string RequestedBy);

    private sealed record Page<T>(List<T> Items, int Total, int PageNumber, int PageSize);

    private static readonly Option<FileInfo?> FileOption = new("--file", "-f")
    {
        Description = "Desired state: a JSON file { \"switches\": { \"noncore.shed\": true, … } }.",
    };

    private static readonly Option<string[]> SetOption = new("--set")
    {
        Description = "Desired state of one switch, name=true|false (repeatable; with --file, overrides it).",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Command Create(CommandIo io)
    {
        var config = new Command("config", "Runtime switches of a running server, changed with approval (--server, FLASHMALL_TOKEN or --email + FLASHMALL_PASSWORD).");

        var diff = new Command("diff", "Compares the desired switch states with the server's. Exit 0 when they match, 5 when they differ.");
        AddDesired(diff);
        io.Handle(diff, async (parse, output, ct) =>
        {
            using var client = await AdminClient.SignInAsync(parse, ct);
            var differences = await DiffAsync(client, parse, ct);
            Print(output, differences);
            output.Result(new { differences });
            return differences.Count == 0 ? ExitCodes.Ok : ExitCodes.Pending;
        });

        var reason = new Option<string>("--reason") { Description = "Why (required; recorded in the audit).", Required = true };
        var emergency = new Option<bool>("--emergency") { Description = "Apply at once even where approval is required; audited as an emergency and shown unapproved until a different operator approves it." };

        var propose = new Command("propose", "Requests a change for each switch that differs. Where approval is required the change waits for a second operator (its id is printed); otherwise it applies at once. Exit 0.");
        AddDesired(propose);
        propose.Options.Add(reason);
        propose.Options.Add(emergency);
        io.Handle(propose, async (parse, output, ct) =>
        {
            using var client = await AdminClient.SignInAsync(parse, ct);
            var changes = await ProposeAsync(client, parse, parse.GetValue(reason)!, parse.GetValue(emergency), output, ct);
            output.Result(new { changes });
            return ExitCodes.Ok;
        });

        var apply = new Command("apply", "Proposes what differs (as propose), then checks the server matches. Exit 0 when it does, 9 while changes await approval.");
        AddDesired(apply);
        apply.Options.Add(reason);
        apply.Options.Add(emergency);
        io.Handle(apply, async (parse, output, ct) =>
        {
            using var client = await AdminClient.SignInAsync(parse, ct);
            var changes = await ProposeAsync(client, parse, parse.GetValue(reason)!, parse.GetValue(emergency), output, ct);
            var remaining = await DiffAsync(client, parse, ct);
            output.Result(new { changes, remaining });
            if (remaining.Count > 0)
            {
                output.Warn($"{remaining.Count} switch(es) await a second operator's approval: flashmall config approve <changeId>.");
                return ExitCodes.AwaitingApproval;
            }
            output.Good("The server matches the desired state.");
            return ExitCodes.Ok;
        });

        var ids = new Argument<string[]>("changeId") { Description = "The change(s) to approve.", Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all") { Description = "Approve every change awaiting approval that another operator requested." };
        var approve = new Command("approve", "Approves changes requested by another operator: a pending change applies; an emergency change already applied is marked approved.");
        AdminClient.AddOptions(approve);
        approve.Arguments.Add(ids);
        approve.Options.Add(all);
        io.Handle(approve, async (parse, output, ct) =>
        {
            using var client = await AdminClient.SignInAsync(parse, ct);
            var wanted = parse.GetValue(ids)?.ToList() ?? [];
            if (parse.GetValue(all))
            {
                var me = (await client.GetAsync<JsonElement>("api/accounts/me", ct)).GetProperty("userId").GetString();
                var awaiting = await client.GetAsync<Page<ChangeState>>("api/admin/changes?status=awaiting&pageSize=100", ct);
                wanted.AddRange(awaiting.Items.Where(c => c.RequestedBy != me).Select(c => c.Id));
            }
            if (wanted.Count == 0)
            {
                throw new CliException(ExitCodes.Usage, "Name the change(s) to approve, or give --all.");
            }
            var approved = new List<JsonElement>();
            foreach (var id in wanted.Distinct())
            {
                var answer = await client.SendAsync<JsonElement>(HttpMethod.Post, $"api/admin/changes/{Uri.EscapeDataString(id)}/approve", new { }, ct);
                approved.Add(answer);
                output.Good($"  approved {id}: {answer.GetProperty("name").GetString()} = {answer.GetProperty("enabled").GetBoolean()}");
            }
            output.Result(new { approved });
            return ExitCodes.Ok;
        });

        var status = new Option<string>("--status") { Description = "pending, unapproved, awaiting (both) or all.", DefaultValueFactory = _ => "awaiting" };
        var pending = new Command("pending", "Lists changes awaiting approval: pending ones (not applied) and unapproved emergency changes.");
        AdminClient.AddOptions(pending);
        pending.Options.Add(status);
        io.Handle(pending, async (parse, output, ct) =>
        {
            using var client = await AdminClient.SignInAsync(parse, ct);
            var page = await client.GetAsync<Page<ChangeState>>($"api/admin/changes?status={Uri.EscapeDataString(parse.GetValue(status)!)}&pageSize=100", ct);
            foreach (var c in page.Items)
            {
                output.Line($"  {c.Id}  {c.Switch} = {c.Enabled}  {c.Approval}{(c.Emergency ? " EMERGENCY" : "")}  ({c.Reason})");
            }
            output.Line($"{page.Total} change(s).");
            output.Result(page);
            return ExitCodes.Ok;
        });

        var pageOption = new Option<int>("--page") { Description = "Page, from 1.", DefaultValueFactory = _ => 1 };
        var pageSize = new Option<int>("--page-size") { Description = "Lines per page (max 100).", DefaultValueFactory = _ => 20 };
        var history = new Command("history", "The audit: who requested, applied and approved which change, when and why (emergencies flagged).");
        AdminClient.AddOptions(history);
        history.Options.Add(pageOption);
        history.Options.Add(pageSize);
        io.Handle(history, async (parse, output, ct) =>
        {
            using var client = await AdminClient.SignInAsync(parse, ct);
            var page = await client.GetAsync<JsonElement>($"api/admin/audit?page={parse.GetValue(pageOption)}&pageSize={parse.GetValue(pageSize)}", ct);
            foreach (var a in page.GetProperty("items").EnumerateArray())
            {
                var flag = a.TryGetProperty("emergency", out var e) && e.GetBoolean() ? " EMERGENCY" : "";
                output.Line($"  {a.GetProperty("at").GetString()}  {a.GetProperty("action").GetString(),-9} {a.GetProperty("switch").GetString()} " +
                    $"{a.GetProperty("before").GetBoolean()} -> {a.GetProperty("after").GetBoolean()}{flag}  by {a.GetProperty("actor").GetString()}  ({a.GetProperty("reason").GetString()})");
            }
            output.Result(page);
            return ExitCodes.Ok;
        });

        config.Subcommands.Add(diff);
        config.Subcommands.Add(propose);
        config.Subcommands.Add(apply);
        config.Subcommands.Add(approve);
        config.Subcommands.Add(pending);
        config.Subcommands.Add(history);
        return config;
    }

    private static void AddDesired(Command command)
    {
        AdminClient.AddOptions(command);
        command.Options.Add(FileOption);
        command.Options.Add(SetOption);
    }

    private static Dictionary<string, bool> Desired(ParseResult parse)
    {
        var desired = new Dictionary<string, bool>(StringComparer.Ordinal);
        if (parse.GetValue(FileOption) is { } file)
        {
            if (!file.Exists)
            {
                throw new CliException(ExitCodes.Usage, $"No file {file.FullName}.");
            }
            using var doc = JsonDocument.Parse(File.ReadAllText(file.FullName));
            if (!doc.RootElement.TryGetProperty("switches", out var switches) || switches.ValueKind != JsonValueKind.Object)
            {
                throw new CliException(ExitCodes.Usage, $"{file.Name}: expected {{ \"switches\": {{ \"name\": true|false }} }}.");
            }
            foreach (var s in switches.EnumerateObject())
            {
                desired[s.Name] = s.Value.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new CliException(ExitCodes.Usage, $"{file.Name}: switch {s.Name} must be true or false."),
                };
            }
        }
        foreach (var set in parse.GetValue(SetOption) ?? [])
        {
            var parts = set.Split('=', 2);
            if (parts.Length != 2 || !bool.TryParse(parts[1], out var enabled))
            {
                throw new CliException(ExitCodes.Usage, $"--set takes name=true|false, not '{set}'.");
            }
            desired[parts[0]] = enabled;
        }
        if (desired.Count == 0)
        {
            throw new CliException(ExitCodes.Usage, "Give the desired state: --file desired.json or --set name=true|false.");
        }
        return desired;
    }

    private static async Task<List<Difference>> DiffAsync(AdminClient client, ParseResult parse, CancellationToken cancellationToken)
    {
        var desired = Desired(parse);
        var current = (await client.GetAsync<List<SwitchState>>("api/admin/switches", cancellationToken)).ToDictionary(s => s.Name, StringComparer.Ordinal);
        var unknown = desired.Keys.Where(k => !current.ContainsKey(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new CliException(ExitCodes.Usage, $"Unknown switch(es): {string.Join(", ", unknown)}. Known: {string.Join(", ", current.Keys)}.");
        }
        return [.. desired.Where(d => current[d.Key].Enabled != d.Value).Select(d => new Difference(d.Key, current[d.Key].Enabled, d.Value)).OrderBy(d => d.Switch, StringComparer.Ordinal)];
    }

    private static void Print(Output output, List<Difference> differences)
    {
        if (differences.Count == 0)
        {
            output.Good("No differences: the server matches the desired state.");
        }
        foreach (var d in differences)
        {
            output.Warn($"  {d.Switch}: {d.Current} -> {d.Desired}");
        }
    }

    private static async Task<List<object>> ProposeAsync(
        AdminClient client, ParseResult parse, string reason, bool emergency, Output output, CancellationToken cancellationToken)
    {
        var differences = await DiffAsync(client, parse, cancellationToken);
        Print(output, differences);
        var waiting = await client.GetAsync<Page<ChangeState>>("api/admin/changes?status=pending&pageSize=100", cancellationToken);
        var changes = new List<object>();
        foreach (var d in differences)
        {
            if (!emergency && waiting.Items.FirstOrDefault(c => c.Switch == d.Switch && c.Enabled == d.Desired) is { } same)
            {
                output.Line($"  {d.Switch}: change {same.Id} already awaits approval");
                changes.Add(new { @switch = d.Switch, enabled = d.Desired, changeId = same.Id, state = "pending", emergency = false, existing = true });
                continue;
            }
            var (status, body) = await client.SendRawAsync(HttpMethod.Put, $"api/admin/switches/{Uri.EscapeDataString(d.Switch)}",
                new { enabled = d.Desired, reason, emergency }, cancellationToken);
            var changeId = body.GetProperty("changeId").GetString();
            if (status == System.Net.HttpStatusCode.Accepted)
            {
                output.Warn($"  {d.Switch} = {d.Desired}: awaits a second operator's approval (change {changeId})");
                changes.Add(new { @switch = d.Switch, enabled = d.Desired, changeId, state = "pending", emergency });
            }
            else
            {
                var unapproved = body.TryGetProperty("unapproved", out var u) && u.GetBoolean();
                output.Good($"  {d.Switch} = {d.Desired}: applied (change {changeId}){(unapproved ? " EMERGENCY, unapproved until a second operator approves it" : "")}");
                changes.Add(new { @switch = d.Switch, enabled = d.Desired, changeId, state = "applied", emergency, unapproved });
            }
        }
        return changes;
    }
}
