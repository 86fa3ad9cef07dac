using FlashMall.CliTests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace FlashMall.CliTests;

/// <summary>deploy/systemd and deploy/k8s, parsed: the fields operations rely on are there and agree.</summary>
public sealed class DeployFilesTests
{
    private static readonly string[] Roles = ["all", "core", "noncore", "worker"];

    private static Dictionary<string, List<string>> ReadUnit(string path)
    {
        var keys = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var section = "";
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }
            if (line[0] == '[')
            {
                section = line.Trim('[', ']');
                continue;
            }
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            Assert.True(eq > 0, $"{path}: not key=value: {line}");
            var key = $"{section}.{line[..eq]}";
            (keys.TryGetValue(key, out var list) ? list : keys[key] = []).Add(line[(eq + 1)..]);
        }
        return keys;
    }

    [Fact]
    public void Each_role_has_a_systemd_unit_that_runs_current_with_its_role_and_restarts_on_failure()
    {
        foreach (var role in Roles)
        {
            var unit = ReadUnit(Path.Combine(Repo.Root, "deploy", "systemd", $"flashmall-{role}.service"));
            Assert.Equal($"/usr/bin/dotnet /opt/flashmall/current/FlashMall.Server.dll --role {role}", Assert.Single(unit["Service.ExecStart"]));
            Assert.Equal("/opt/flashmall/current", Assert.Single(unit["Service.WorkingDirectory"]));
            Assert.Equal("on-failure", Assert.Single(unit["Service.Restart"]));
            Assert.Equal("flashmall", Assert.Single(unit["Service.User"]));
            Assert.Contains("Database__MigrateOnStart=false", unit["Service.Environment"]);
            Assert.Contains(unit["Service.Environment"], e => e.StartsWith("ASPNETCORE_URLS=http://", StringComparison.Ordinal));
            Assert.Equal("multi-user.target", Assert.Single(unit["Install.WantedBy"]));
        }
        var ports = Roles.Select(r => ReadUnit(Path.Combine(Repo.Root, "deploy", "systemd", $"flashmall-{r}.service"))["Service.Environment"]
            .Single(e => e.StartsWith("ASPNETCORE_URLS=", StringComparison.Ordinal))).ToList();
        Assert.Equal(Roles.Length, ports.Distinct().Count());
    }

    private static List<YamlMappingNode> Documents(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Repo.Root, "deploy", "k8s", file));
        stream.Load(reader);
        return [.. stream.Documents.Select(d => (YamlMappingNode)d.RootNode)];
    }

    private static YamlNode At(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            node = int.TryParse(key, out var index) ? ((YamlSequenceNode)node).Children[index] : ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        }
        return node;
    }

    private static string Text(YamlNode node, params string[] path) => ((YamlScalarNode)At(node, path)).Value!;

    private static Dictionary<string, string> Labels(YamlNode node, params string[] path) =>
        ((YamlMappingNode)At(node, path)).Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value!);

    [Fact]
    public void Each_role_deployment_has_probes_on_the_health_endpoints_resource_requests_its_role_and_a_disruption_budget()
    {
        var kustomization = Documents("kustomization.yaml").Single();
        var resources = ((YamlSequenceNode)At(kustomization, "resources")).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();
        foreach (var role in new[] { "core", "noncore", "worker" })
        {
            Assert.Contains($"{role}.yaml", resources);
            var docs = Documents($"{role}.yaml");
            var deployment = docs.Single(d => Text(d, "kind") == "Deployment");
            Assert.Equal("apps/v1", Text(deployment, "apiVersion"));
            var podLabels = Labels(deployment, "spec", "template", "metadata", "labels");
            Assert.Equal(podLabels, Labels(deployment, "spec", "selector", "matchLabels"));
            Assert.Equal(role, podLabels["app.kubernetes.io/component"]);
            Assert.True(int.Parse(Text(deployment, "spec", "replicas"), System.Globalization.CultureInfo.InvariantCulture) >= 2);

            var container = At(deployment, "spec", "template", "spec", "containers", "0");
            Assert.Equal(["--role", role], ((YamlSequenceNode)At(container, "args")).Children.Select(c => ((YamlScalarNode)c).Value));
            Assert.Equal("/health/ready", Text(container, "readinessProbe", "httpGet", "path"));
            Assert.Equal("/health/live", Text(container, "livenessProbe", "httpGet", "path"));
            Assert.Equal("http", Text(container, "readinessProbe", "httpGet", "port"));
            Assert.Equal("http", Text(container, "ports", "0", "name"));
            Assert.Equal("8080", Text(container, "ports", "0", "containerPort"));
            Assert.False(string.IsNullOrWhiteSpace(Text(container, "resources", "requests", "cpu")));
            Assert.False(string.IsNullOrWhiteSpace(Text(container, "resources", "requests", "memory")));
            Assert.False(string.IsNullOrWhiteSpace(Text(container, "resources", "limits", "memory")));
            Assert.Equal("flashmall-config", Text(container, "envFrom", "0", "configMapRef", "name"));

            var pdb = docs.Single(d => Text(d, "kind") == "PodDisruptionBudget");
            Assert.Equal("policy/v1", Text(pdb, "apiVersion"));
            Assert.Equal(podLabels, Labels(pdb, "spec", "selector", "matchLabels"));
            var spec = (YamlMappingNode)At(pdb, "spec");
            Assert.True(spec.Children.ContainsKey(new YamlScalarNode("minAvailable")) ^ spec.Children.ContainsKey(new YamlScalarNode("maxUnavailable")));
            if (spec.Children.ContainsKey(new YamlScalarNode("minAvailable")))
            {
                Assert.True(int.Parse(Text(spec, "minAvailable"), System.Globalization.CultureInfo.InvariantCulture) < int.Parse(Text(deployment, "spec", "replicas"), System.Globalization.CultureInfo.InvariantCulture));
            }
            foreach (var service in docs.Where(d => Text(d, "kind") == "Service"))
            {
                Assert.Equal(podLabels, Labels(service, "spec", "selector"));
                Assert.Equal("http", Text(service, "spec", "ports", "0", "targetPort"));
            }
        }
        var config = Documents("configmap.yaml").Single();
        Assert.Equal("http://0.0.0.0:8080", Text(config, "data", "ASPNETCORE_URLS"));
        Assert.Equal("false", Text(config, "data", "Database__MigrateOnStart"));
    }
}
