using k8s.Models;

namespace MailRelay.Chart.Tests;

/// <summary>What helm template renders, parsed strictly into the Kubernetes API's models.</summary>
public class ChartObjectsTests
{
    private static readonly RenderedChart Defaults = Helm.Template(Helm.Minimal);
    private static readonly RenderedChart Full = Helm.Template("-f", Helm.ValuesFile("full.yaml"));

    public static TheoryData<string> Renders => ["defaults", "full"];

    private static RenderedChart Render(string name) => name == "defaults" ? Defaults : Full;

    [Fact]
    public void Default_values_render_the_operator_the_relay_and_their_policies_and_nothing_for_Prometheus()
    {
        var kinds = Defaults.Manifests.Select(m => m.Kind).Order().ToList();
        Assert.Equal(
            ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "NetworkPolicy", "NetworkPolicy", "PodDisruptionBudget", "Role", "RoleBinding", "Secret", "Service", "Service", "ServiceAccount", "ServiceAccount", "StatefulSet"],
            kinds);
        Assert.All(Defaults.Manifests, m => Assert.NotNull(m.Typed));
        Assert.All(Defaults.OfKind("Service"), s => Assert.Equal("ClusterIP", s.As<V1Service>().Spec.Type));
        Assert.Equal("policy/v1", Defaults.Single("PodDisruptionBudget").ApiVersion);
        Assert.All(Defaults.Manifests.Where(m => m.Kind is not ("ClusterRole" or "ClusterRoleBinding")), m => Assert.Contains("namespace: mail-relay", m.Text));
    }

    [Fact]
    public void Every_option_set_renders_valid_objects_and_the_Prometheus_ones()
    {
        Assert.Equal("relay-prod", Full.Typed<V1StatefulSet>("StatefulSet").Metadata.Name);
        Assert.Equal("NodePort", Full.Single("Service", "relay-prod").As<V1Service>().Spec.Type);
        var monitor = Full.Single("ServiceMonitor");
        Assert.Equal("monitoring.coreos.com/v1", monitor.ApiVersion);
        Assert.Contains("interval: 15s", monitor.Text);
        var rule = Full.Single("PrometheusRule");
        Assert.Contains("mailrelay_queue_depth{namespace=\"mail-relay\"}) > 50", rule.Text);
        Assert.Contains("{{ $labels.pod }}", rule.Text); // Prometheus's template, not Helm's
        var relay = Full.Typed<V1StatefulSet>("StatefulSet");
        Assert.Null(relay.Spec.VolumeClaimTemplates);
        Assert.NotNull(Assert.Single(relay.Spec.Template.Spec.Volumes, v => v.Name == "spool").EmptyDir);
        var container = Assert.Single(relay.Spec.Template.Spec.Containers);
        Assert.Contains("--default-action=reject", container.Args);
        Assert.Equal("localhost/mailrelay:test", container.Image);
        Assert.Equal("Never", container.ImagePullPolicy);
        Assert.Contains(container.VolumeMounts, m => m.Name == "ca" && m.MountPath == "/etc/mailrelay/ca");
        Assert.Equal(120, relay.Spec.Template.Spec.TerminationGracePeriodSeconds);
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Every_Service_port_and_containerPort_says_protocol_TCP(string render)
    {
        // Helm 4 applies server-side; the 1.20 API server then needs the protocol written out.
        var chart = Render(render);
        var ports = chart.OfKind("Service").SelectMany(s => s.As<V1Service>().Spec.Ports.Select(p => ($"{s.Name}:{p.Name}", p.Protocol)))
            .Concat(chart.PodTemplates().SelectMany(t => t.Template.Spec.Containers.SelectMany(c => (c.Ports ?? []).Select(p => ($"{t.Owner.Name}/{c.Name}:{p.Name}", p.Protocol)))))
            .Concat(chart.OfKind("NetworkPolicy").SelectMany(n => n.As<V1NetworkPolicy>().Spec.Ingress?.SelectMany(i => i.Ports.Select(p => ($"{n.Name}:{p.Port}", p.Protocol))) ?? []))
            .ToList();
        Assert.True(ports.Count >= 6, string.Join(", ", ports));
        Assert.All(ports, p => Assert.True(p.Protocol == "TCP", $"{p.Item1} has protocol '{p.Protocol}'"));
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Every_pod_meets_the_restricted_Pod_Security_Standard(string render)
    {
        var templates = Render(render).PodTemplates().ToList();
        Assert.Equal(2, templates.Count);
        Assert.All(templates, t => Assert.True(RestrictedPodSecurity.Violations(t.Template).Count == 0, $"{t.Owner}: {string.Join("; ", RestrictedPodSecurity.Violations(t.Template))}"));
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void The_operator_drives_the_relay_the_chart_ships(string render)
    {
        var chart = Render(render);
        var relay = chart.Typed<V1StatefulSet>("StatefulSet");
        var op = chart.Typed<V1Deployment>("Deployment");
        var args = Assert.Single(op.Spec.Template.Spec.Containers).Args;
        string Arg(string name) => Assert.Single(args, a => a.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
        Assert.Equal("statefulset/" + relay.Metadata.Name, Arg("--relay-workload"));
        Assert.Equal(Helm.Namespace, Arg("--namespace"));
        var volumes = relay.Spec.Template.Spec.Volumes;
        // One projected volume: the main ConfigMap and as many optional parts as the operator may write (a table over 1 MB).
        var routes = Assert.Single(volumes, v => v.Name == "routes").Projected.Sources;
        var parts = int.Parse(Arg("--routes-max-parts"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(16, parts);
        Assert.Equal([Arg("--configmap-name"), .. Enumerable.Range(1, parts).Select(i => $"{Arg("--configmap-name")}-{i}")], routes.Select(s => s.ConfigMap.Name));
        Assert.All(routes, s => Assert.True(s.ConfigMap.Optional));
        Assert.Equal(Arg("--secret-name"), Assert.Single(volumes, v => v.Name == "credentials").Secret.SecretName);
        // Tenancy: the relay reads the client table and serves the certificate the operator writes.
        Assert.Equal(Arg("--clients-secret-name"), Assert.Single(volumes, v => v.Name == "clients").Secret.SecretName);
        Assert.Equal(Arg("--relay-tls-secret-name"), Assert.Single(volumes, v => v.Name == "tls").Secret.SecretName);
        var relayArgs = Assert.Single(relay.Spec.Template.Spec.Containers).Args;
        Assert.Contains("--clients=/etc/mailrelay/clients/clients.yaml", relayArgs);
        Assert.Contains("--tls-cert=/etc/mailrelay/tls/tls.crt", relayArgs);
        Assert.Equal($"{relay.Metadata.Name}.{Helm.Namespace}.svc", Arg("--relay-smtp-host"));
        // The ConfigMap and Secret the operator writes are the chart's too (created empty), so helm uninstall removes them.
        Assert.Empty(chart.Single("ConfigMap", Arg("--configmap-name")).As<V1ConfigMap>().Data ?? new Dictionary<string, string>());
        Assert.Null(chart.Single("Secret", Arg("--secret-name")).As<V1Secret>().Data);
        Assert.Empty(chart.OfKind("Lease")); // the operator's leader election must create its Lease itself
        // Leader election only with more than one replica.
        Assert.Equal(op.Spec.Replicas > 1 ? "true" : "false", Arg("--leader-elect"));
        Assert.Equal(render == "full" ? 3 : 1, op.Spec.Replicas);
        // The Role lets it patch that workload and write that ConfigMap and Secret, in its own namespace.
        var role = chart.Typed<V1Role>("Role");
        Assert.Contains(role.Rules, r => r.ApiGroups.Contains("apps") && r.Resources.Contains("statefulsets") && r.Verbs.Contains("patch"));
        Assert.Equal(op.Spec.Template.Spec.ServiceAccountName, Assert.Single(chart.Typed<V1RoleBinding>("RoleBinding").Subjects).Name);
        Assert.Equal(op.Spec.Template.Spec.ServiceAccountName, Assert.Single(chart.Typed<V1ClusterRoleBinding>("ClusterRoleBinding").Subjects).Name);
    }

    [Fact]
    public void The_relay_keeps_its_queue_on_a_PVC_mounts_whole_directories_and_gets_time_to_finish()
    {
        var relay = Defaults.Typed<V1StatefulSet>("StatefulSet");
        var pod = relay.Spec.Template.Spec;
        var claim = Assert.Single(relay.Spec.VolumeClaimTemplates);
        Assert.Equal("spool", claim.Metadata.Name);
        Assert.Equal("1Gi", claim.Spec.Resources.Requests["storage"].ToString());
        Assert.DoesNotContain(pod.Volumes, v => v.Name == "spool");
        var c = Assert.Single(pod.Containers);
        Assert.All(c.VolumeMounts, m => Assert.Null(m.SubPath)); // a subPath mount never sees an update
        Assert.Equal("/etc/mailrelay/routes", Assert.Single(c.VolumeMounts, m => m.Name == "routes").MountPath);
        Assert.Contains("--routes=/etc/mailrelay/routes/routes.yaml", c.Args);
        Assert.Contains("--spool=/var/spool/mailrelay", c.Args);
        Assert.Equal("/var/spool/mailrelay", Assert.Single(c.VolumeMounts, m => m.Name == "spool").MountPath);
        Assert.Contains("--allowed-networks=10.244.0.0/16", c.Args);
        Assert.Equal(("/readyz", "metrics"), (c.ReadinessProbe.HttpGet.Path, c.ReadinessProbe.HttpGet.Port.Value));
        Assert.Equal(("/healthz", "metrics"), (c.LivenessProbe.HttpGet.Path, c.LivenessProbe.HttpGet.Port.Value));
        Assert.Contains("--metrics=0.0.0.0:9090", c.Args);
        var grace = int.Parse(Assert.Single(c.Args, a => a.StartsWith("--shutdown-grace=", StringComparison.Ordinal))["--shutdown-grace=".Length..].TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(pod.TerminationGracePeriodSeconds >= grace + 60, $"terminationGracePeriodSeconds {pod.TerminationGracePeriodSeconds} leaves deliveries no time after --shutdown-grace={grace}s");
        // No API access for the relay.
        Assert.False(pod.AutomountServiceAccountToken);
        Assert.False(Defaults.Single("ServiceAccount", relay.Metadata.Name).As<V1ServiceAccount>().AutomountServiceAccountToken);
        var subjects = Defaults.OfKind("RoleBinding").SelectMany(b => b.As<V1RoleBinding>().Subjects)
            .Concat(Defaults.OfKind("ClusterRoleBinding").SelectMany(b => b.As<V1ClusterRoleBinding>().Subjects));
        Assert.DoesNotContain(subjects, s => s.Name == pod.ServiceAccountName);
        Assert.NotEqual(pod.ServiceAccountName, Defaults.Typed<V1Deployment>("Deployment").Spec.Template.Spec.ServiceAccountName);
    }

    [Fact]
    public void Only_the_chosen_clients_reach_SMTP()
    {
        var policy = Defaults.Single("NetworkPolicy", "mail-relay").As<V1NetworkPolicy>();
        Assert.Equal(["Ingress"], policy.Spec.PolicyTypes);
        Assert.Equal("mail-relay", policy.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"]);
        var smtp = Assert.Single(policy.Spec.Ingress);
        Assert.Equal("2525", Assert.Single(smtp.Ports).Port.Value);
        var from = Assert.Single(smtp.FromProperty);
        Assert.Equal("true", from.NamespaceSelector.MatchLabels["mailrelay.io/smtp-client"]);
        // The operator's pods accept nothing.
        Assert.Empty(Defaults.Single("NetworkPolicy", "mail-relay-operator").As<V1NetworkPolicy>().Spec.Ingress);

        var full = Full.Single("NetworkPolicy", "relay-prod").As<V1NetworkPolicy>();
        Assert.Equal(2, full.Spec.Ingress.Count);
        Assert.Equal(2, full.Spec.Ingress[0].FromProperty.Count);
        Assert.Equal("10.1.0.0/16", full.Spec.Ingress[0].FromProperty[1].IpBlock.Cidr);
        Assert.Equal("9090", Assert.Single(full.Spec.Ingress[1].Ports).Port.Value);
    }

    [Fact]
    public void On_a_1_20_API_server_the_PodDisruptionBudget_is_policy_v1beta1()
    {
        var old = Helm.Template([.. Helm.Minimal, "--kube-version", "1.20.2"]);
        var pdb = old.Single("PodDisruptionBudget");
        Assert.Equal("policy/v1beta1", pdb.ApiVersion);
        Assert.Contains("maxUnavailable: 1", pdb.Text);
    }
}
