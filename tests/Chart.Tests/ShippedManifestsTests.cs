using k8s.Models;
using MailRelay.Operator.Cli;

namespace MailRelay.Chart.Tests;

/// <summary>The chart and deploy/ ship the same CRDs and RBAC; deploy/ holds to the same rules as the chart.</summary>
public class ShippedManifestsTests
{
    /// <summary>Rules as a sorted set of "resource|verb" (API group and resource names folded in), so equal rights compare equal however they are grouped.</summary>
    private static List<string> Rules(IEnumerable<V1PolicyRule> rules) =>
        rules.SelectMany(r => (r.ApiGroups ?? [""]).SelectMany(g => (r.Resources ?? []).SelectMany(res => (r.Verbs ?? []).SelectMany(v =>
                (r.ResourceNames is { Count: > 0 } names ? names : [""]).Select(n => (g == "" ? "" : g + "/") + res + (n == "" ? "" : ":" + n) + "|" + v)))))
            .Distinct().Order(StringComparer.Ordinal).ToList();

    private static string Deploy(params string[] parts) => Path.Combine([Helm.RepoRoot, "deploy", .. parts]);

    [Fact]
    public void The_charts_CRDs_are_byte_identical_to_deploy_crds()
    {
        var deployed = Directory.GetFiles(Deploy("crds"), "*.yaml").Select(Path.GetFileName).Order().ToList();
        var charted = Directory.GetFiles(Path.Combine(Helm.ChartDir, "crds")).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(3, deployed.Count);
        Assert.Equal(deployed, charted);
        foreach (var name in deployed)
        {
            Assert.True(
                File.ReadAllBytes(Deploy("crds", name!)).SequenceEqual(File.ReadAllBytes(Path.Combine(Helm.ChartDir, "crds", name!))),
                $"charts/mail-relay-operator/crds/{name} differs from deploy/crds/{name}: cp deploy/crds/*.yaml charts/mail-relay-operator/crds/");
        }
    }

    [Fact]
    public void The_charts_RBAC_grants_exactly_what_deploy_operator_rbac_yaml_grants()
    {
        var shipped = RenderedChart.Load(Deploy("operator", "rbac.yaml"));
        var chart = Helm.Template(Helm.Minimal);
        Assert.Equal(Rules(shipped.Typed<V1ClusterRole>("ClusterRole").Rules), Rules(chart.Typed<V1ClusterRole>("ClusterRole").Rules));
        Assert.Equal(Rules(shipped.Typed<V1Role>("Role").Rules), Rules(chart.Typed<V1Role>("Role").Rules));
        Assert.Contains("mailrelay.io/mailroutes/status|patch", Rules(chart.Typed<V1ClusterRole>("ClusterRole").Rules));
        // Cluster-wide, Secrets are read, created (RBAC cannot limit create by name), and updated or
        // deleted only by the sending identities' name (mail-relay-smtp): nothing else is writable.
        Assert.Equal(
            ["secrets:mail-relay-smtp|delete", "secrets:mail-relay-smtp|update", "secrets|create"],
            Rules(chart.Typed<V1ClusterRole>("ClusterRole").Rules).Where(r => r.StartsWith("secrets", StringComparison.Ordinal) && !r.EndsWith("|get", StringComparison.Ordinal) && !r.EndsWith("|list", StringComparison.Ordinal) && !r.EndsWith("|watch", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(Helm.Namespace, chart.Typed<V1Role>("Role").Metadata.NamespaceProperty);
    }

    [Fact]
    public void The_operators_default_relay_workload_is_the_StatefulSet_deploy_ships()
    {
        var relay = RenderedChart.Load(Deploy("relay", "statefulset.yaml")).Typed<V1StatefulSet>("StatefulSet");
        Assert.Equal("statefulset/" + relay.Metadata.Name, OperatorCommandLine.Default("--relay-workload"));
        var op = RenderedChart.Load(Deploy("operator", "deployment.yaml")).Typed<V1Deployment>("Deployment");
        Assert.DoesNotContain(Assert.Single(op.Spec.Template.Spec.Containers).Args, a => a.Contains("--relay-workload", StringComparison.Ordinal)); // the default, from the option table
        var parts = int.Parse(OperatorCommandLine.Default("--routes-max-parts")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(parts.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(op.Spec.Template.Spec.Containers).Args);
        Assert.Equal(
            [OperatorCommandLine.Default("--configmap-name"), .. Enumerable.Range(1, parts).Select(i => $"{OperatorCommandLine.Default("--configmap-name")}-{i}")],
            relay.Spec.Template.Spec.Volumes.Single(v => v.Name == "routes").Projected.Sources.Select(s => s.ConfigMap.Name));
        Assert.Equal(OperatorCommandLine.Default("--secret-name"), relay.Spec.Template.Spec.Volumes.Single(v => v.Name == "credentials").Secret.SecretName);
    }

    [Fact]
    public void Deploy_pods_meet_the_restricted_standard_say_TCP_and_guess_no_allowed_networks()
    {
        var files = new[] { Deploy("operator", "deployment.yaml"), Deploy("relay", "statefulset.yaml") };
        var all = files.SelectMany(f => RenderedChart.Load(f).Manifests).ToList();
        var chart = new RenderedChart(all);
        var templates = chart.PodTemplates().ToList();
        Assert.Equal(2, templates.Count);
        Assert.All(templates, t => Assert.True(RestrictedPodSecurity.Violations(t.Template).Count == 0, $"{t.Owner}: {string.Join("; ", RestrictedPodSecurity.Violations(t.Template))}"));
        Assert.All(templates.SelectMany(t => t.Template.Spec.Containers).SelectMany(c => c.Ports), p => Assert.Equal("TCP", p.Protocol));
        Assert.All(chart.OfKind("Service").SelectMany(s => s.As<V1Service>().Spec.Ports), p => Assert.Equal("TCP", p.Protocol));
        Assert.All(files, f => Assert.DoesNotContain("10.0.0.0/8", File.ReadAllText(f).Split('\n').Where(l => !l.TrimStart().StartsWith('#'))));

        // The relay's allowed networks come from a ConfigMap the user must create (not optional).
        var relay = chart.Typed<V1StatefulSet>("StatefulSet").Spec.Template.Spec;
        var env = Assert.Single(Assert.Single(relay.Containers).Env, e => e.Name == "MAILRELAY_ALLOWED_NETWORKS");
        Assert.NotEqual(true, env.ValueFrom.ConfigMapKeyRef.Optional);
        Assert.False(relay.AutomountServiceAccountToken);
        Assert.True(relay.TerminationGracePeriodSeconds >= 75);
    }
}
