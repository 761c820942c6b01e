using System.Text;
using k8s;
using k8s.Models;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Chart;

/// <summary>
/// The headline, on a real kubelet: helm install of charts/mail-relay-operator with the locally built
/// images; the operator and the relay Running and Ready (as UID 10001); a MailDomain, RelayCredential and
/// MailRoute applied; the operator writes the ConfigMap and Secret and the relay StatefulSet rolls to
/// pods carrying the new hash; an app pod without AUTH is refused the granted domain (553 5.7.1); a message
/// from an app pod with its namespace's sending identity (the mail-relay-smtp Secret: STARTTLS verified
/// against the operator's CA, AUTH) to the relay Service arrives at the
/// authenticated TLS upstream stand-in on the bridge's gateway address; a message queued while the
/// upstream is down survives a roll on the same PVC and is delivered by the new pod; helm upgrade keeps
/// the operator's hash; helm uninstall leaves nothing in its namespace but the PVCs (and the operator's Lease): the
/// operator's own Secrets go with the relay StatefulSet that owns them; the apps' identity Secrets stay (documented).
/// Category=RealCluster: scripts/test.sh runs it after the other end-to-end tests; it needs root, the
/// cluster packages of scripts/install-test-deps.sh, scripts/build-node.sh and scripts/build-images.sh
/// (scripts/preflight.sh checks them all before any test starts).
/// </summary>
[Trait("Category", "RealCluster")]
public sealed class HelmOnRealClusterTests(RealCluster cluster) : IClassFixture<RealCluster>, IDisposable
{
    private const string Ns = "mail-relay";
    private const string Shop = "shop";
    private const string User = "AKIAEXAMPLEUSER";
    private const string Password = "upstream-secret-0815";
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(3);
    private readonly string _dir = TestPaths.TempDir("helm-e2e");
    private UpstreamRelay? _upstream;

    private IKubernetes Kube => cluster.Client;

    [Fact]
    public async Task Helm_install_then_a_MailRoute_rolls_the_relay_and_mail_flows_through_it()
    {
        var certs = new TestCertificates(_dir, "upstream");
        var tls = certs.Issue("upstream", [RealCluster.Gateway], []); // the address the route names, in the subjectAltName only
        _upstream = await UpstreamRelay.StartAsync(RealCluster.Gateway, tls, User, Password);
        var upstreamPort = _upstream.Port;

        // Storage: one pre-created hostPath PV per relay replica.
        foreach (var i in new[] { 0, 1 })
        {
            await cluster.ApplyAsync($"apiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: spool-{i}}}\nspec:\n  capacity: {{storage: 1Gi}}\n  accessModes: [ReadWriteOnce]\n  persistentVolumeReclaimPolicy: Retain\n  hostPath: {{path: {cluster.PersistentVolumeDir($"spool-{i}")}, type: Directory}}\n");
        }

        await cluster.KubectlAsync("create", "namespace", Ns);
        await cluster.KubectlAsync("-n", Ns, "create", "configmap", "upstream-ca", "--from-file=ca.pem=" + certs.CaFile);
        var values = Path.Combine(_dir, "values.yaml");
        await File.WriteAllTextAsync(values, $"""
            allowedNetworks: [{RealCluster.PodCidr}]
            operator:
              image: {"{"}repository: localhost/mailrelay-operator, pullPolicy: Never{"}"}
            relay:
              image: {"{"}repository: localhost/mailrelay, pullPolicy: Never{"}"}
              shutdownGraceSeconds: 5
              extraArgs: [--trust-ca=/etc/mailrelay/ca/ca.pem, --retry-min=2s, --retry-max=4s]
              extraVolumes: [{"{"}name: ca, configMap: {"{"}name: upstream-ca{"}"}{"}"}]
              extraVolumeMounts: [{"{"}name: ca, mountPath: /etc/mailrelay/ca, readOnly: true{"}"}]
            """);
        var chart = Path.Combine(TestPaths.RepoRoot, "charts", "mail-relay-operator");

        // 1. helm install: both workloads Running and Ready, as the restricted standard's non-root user.
        var notes = (await cluster.HelmAsync("install", "mail-relay", chart, "--namespace", Ns, "-f", values)).Stdout;
        await RolledOutAsync();
        var pods = (await Kube.CoreV1.ListNamespacedPodAsync(Ns)).Items;
        Assert.Equal(3, pods.Count);
        Assert.All(pods, p => Assert.True(p.Status.ContainerStatuses.Single().Ready, p.Metadata.Name));
        AssertProgramsRunAsUser10001();

        // The CRDs explain themselves (their OpenAPI descriptions, published by the API server).
        var explain = (await cluster.KubectlAsync("explain", "mailroute.spec.relay")).Stdout;
        Assert.Contains("Deliver through this upstream relay", explain);
        Assert.Contains("credentialRef", explain);
        Assert.Contains("implicit TLS", (await cluster.KubectlAsync("explain", "mailroute.spec.relay.port")).Stdout);

        // 2. Resources applied: the operator writes the ConfigMap and Secret; the relay rolls to the new hash.
        var before = await ConfigHashAsync();
        await cluster.KubectlAsync("create", "namespace", Shop);
        await cluster.KubectlAsync("label", "namespace", Shop, "mailrelay.io/smtp-client=true");
        await cluster.ApplyAsync($$"""
            apiVersion: mailrelay.io/v1alpha1
            kind: MailDomain
            metadata: {name: example.com}
            spec: {domain: example.com, subdomains: true, namespaces: [{{Shop}}]}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: ses-smtp, namespace: {{Shop}}}
            stringData: {username: {{User}}, password: {{Password}}}
            ---
            apiVersion: mailrelay.io/v1alpha1
            kind: RelayCredential
            metadata: {name: ses, namespace: {{Shop}}}
            spec:
              secretRef: {name: ses-smtp}
            ---
            apiVersion: mailrelay.io/v1alpha1
            kind: MailRoute
            metadata: {name: example-com-via-upstream, namespace: {{Shop}}}
            spec:
              senders: [example.com]
              relay:
                host: "{{RealCluster.Gateway}}"
                port: {{upstreamPort}}
                tls: Verify
                credentialRef: {name: ses}
            """);
        await Eventually.UntilAsync("MailRoute Programmed", async () => (await cluster.KubectlAsync("-n", Shop, "get", "mailroute", "example-com-via-upstream", "-o", "jsonpath={.status.conditions[?(@.type==\"Programmed\")].status}")).Stdout, s => s == "True", Slow, () => cluster.Logs());
        var routes = await Kube.CoreV1.ReadNamespacedConfigMapAsync("mail-relay-routes", Ns);
        Assert.Contains(RealCluster.Gateway, routes.Data["routes.yaml"]);
        var credentials = await Kube.CoreV1.ReadNamespacedSecretAsync("mail-relay-credentials", Ns);
        Assert.Equal(Password, Encoding.UTF8.GetString(credentials.Data["shop.ses.password"]));
        var afterRoute = await ConfigHashAsync();
        Assert.NotEqual(before, afterRoute);
        await RolledOutAsync();
        await EveryRelayPodCarriesAsync(afterRoute);

        // 3. A message from a client pod to the relay Service reaches the authenticated TLS upstream.
        var service = await Kube.CoreV1.ReadNamespacedServiceAsync("mail-relay", Ns);
        var (refused, refusedLog) = await SendFromPodAsync("client-0", service.Spec.ClusterIP, "without AUTH", authenticate: false);
        Assert.True(refused == "Failed", refusedLog); // example.com is granted to shop: only its identity may send as it
        Assert.Contains("553 5.7.1", refusedLog);
        await SendAuthenticatedFromPodAsync("client-1", service.Spec.ClusterIP, "first message through the relay pod");
        var first = await Eventually.UntilAsync("the message at the upstream", () => _upstream.Messages(), m => m.Count == 1, Slow, () => _upstream.Log + cluster.Logs());
        Assert.Equal(User, first[0].Envelope.GetProperty("login").GetString());
        Assert.True(first[0].Envelope.GetProperty("tls").GetBoolean());
        Assert.Contains("first message through the relay pod", Encoding.UTF8.GetString(first[0].Data));

        // The test message exactly as helm install's NOTES print it: run the relay image's send verb with shop's
        // identity mounted, wait for the pod, read its log, delete it. Only hostAliases is added to the run line,
        // for this cluster has no DNS to resolve the Secret's host.
        var lines = notes.Split('\n').Select(l => l.Trim()).ToList();
        var run = lines.FindIndex(l => l.StartsWith("kubectl -n shop run smtp-test ", StringComparison.Ordinal));
        Assert.True(run >= 0, notes);
        var steps = lines.Skip(run).Take(4).ToList();
        Assert.Equal(["kubectl -n shop run", "kubectl -n shop wait", "kubectl -n shop logs", "kubectl -n shop delete"], steps.Select(l => string.Join(' ', l.Split(' ').Take(4))));
        var host = Encoding.UTF8.GetString((await Kube.CoreV1.ReadNamespacedSecretAsync("mail-relay-smtp", Shop)).Data["host"]);
        Assert.Contains("{\"spec\": {", steps[0]);
        steps[0] = steps[0].Replace("{\"spec\": {", $"{{\"spec\": {{\"hostAliases\": [{{\"ip\": \"{service.Spec.ClusterIP}\", \"hostnames\": [\"{host}\"]}}], ", StringComparison.Ordinal);
        await cluster.ToolAsync("bash", ["-c", steps[0]], null);
        await cluster.ToolAsync("bash", ["-c", steps[1]], null);
        var sendLog = await cluster.ToolAsync("bash", ["-c", steps[2]], null);
        Assert.Contains("sent as shop to " + host, sendLog.Stdout);
        Assert.Contains("AUTH PLAIN ********", sendLog.Stdout);
        await cluster.ToolAsync("bash", ["-c", steps[3]], null);
        var both = await Eventually.UntilAsync("the NOTES' test message at the upstream", () => _upstream.Messages(), m => m.Count == 2, Slow, () => _upstream.Log + cluster.Logs());
        Assert.Contains("mailrelay test message", Encoding.UTF8.GetString(both[1].Data));

        // 4. Upstream down: the next message is queued on a relay pod's PVC; a MailRoute change rolls the
        //    relay; the new pod on the same PVC delivers it once the upstream is back.
        _upstream.Dispose();
        await SendAuthenticatedFromPodAsync("client-2", service.Spec.ClusterIP, "queued across the roll");
        var queued = await Eventually.UntilAsync("the message in a spool PV", () => Directory.GetFiles(Path.Combine(cluster.Dir, "pv"), "*.eml", SearchOption.AllDirectories), f => f.Length == 1, Slow);
        var pvName = Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(queued[0])))!; // pv/spool-N/queue/ID.eml
        var podName = "mail-relay-" + pvName[^1];
        var oldUid = (await Kube.CoreV1.ReadNamespacedPodAsync(podName, Ns)).Metadata.Uid;
        await cluster.KubectlAsync("-n", Shop, "patch", "mailroute", "example-com-via-upstream", "--type=merge", "-p", "{\"spec\":{\"senders\":[\"example.com\",\"*.example.com\"]}}");
        var afterChange = await Eventually.UntilAsync("a new config hash", ConfigHashAsync, h => h != afterRoute, Slow, () => cluster.Logs());
        await RolledOutAsync();
        await EveryRelayPodCarriesAsync(afterChange);
        var newPod = await Kube.CoreV1.ReadNamespacedPodAsync(podName, Ns);
        Assert.NotEqual(oldUid, newPod.Metadata.Uid);
        Assert.True(File.Exists(queued[0]), "the queued message must still be on the PVC after the roll");
        _upstream = await UpstreamRelay.StartAsync(RealCluster.Gateway, tls, User, Password, fixedPort: upstreamPort);
        var second = await Eventually.UntilAsync("the queued message delivered by the new pod", () => _upstream.Messages(), m => m.Count == 1, Slow, () => _upstream.Log + cluster.Logs());
        Assert.Contains("queued across the roll", Encoding.UTF8.GetString(second[0].Data));
        await Eventually.TrueAsync("the spool emptied", () => !File.Exists(queued[0]), Slow);

        // 5. helm upgrade with changed values: the operator's hash stays, leader election turns on.
        await cluster.HelmAsync("upgrade", "mail-relay", chart, "--namespace", Ns, "-f", values, "--set", "operator.replicas=2", "--set", "relay.resources.limits.memory=384Mi");
        Assert.Equal(afterChange, await ConfigHashAsync());
        await RolledOutAsync();
        var op = await Kube.AppsV1.ReadNamespacedDeploymentAsync("mail-relay-operator", Ns);
        Assert.Contains("--leader-elect=true", op.Spec.Template.Spec.Containers[0].Args);
        await Eventually.UntilAsync("a leader", async () => (await Kube.CoordinationV1.ReadNamespacedLeaseAsync("mail-relay-operator", Ns)).Spec.HolderIdentity, h => !string.IsNullOrEmpty(h), Slow, () => cluster.Logs());
        AssertProgramsRunAsUser10001();

        // 6. helm uninstall: nothing of the release is left but the relay's PVCs (the queue).
        await cluster.HelmAsync("uninstall", "mail-relay", "--namespace", Ns, "--wait", "--timeout", "3m");
        await Eventually.TrueAsync("the pods gone", async () => (await Kube.CoreV1.ListNamespacedPodAsync(Ns)).Items.Count == 0, Slow);
        Assert.Equal(["kube-root-ca.crt", "upstream-ca"], (await Kube.CoreV1.ListNamespacedConfigMapAsync(Ns)).Items.Select(c => c.Metadata.Name).Order());
        // The operator's CA, the relay's certificate and the client table are owned by the relay StatefulSet:
        // the garbage collector deletes them with it.
        await Eventually.UntilAsync(
            "the operator's Secrets collected with the relay",
            async () => (await Kube.CoreV1.ListNamespacedSecretAsync(Ns)).Items.Where(s => s.Type != "kubernetes.io/service-account-token").Select(s => s.Metadata.Name).ToList(),
            names => names.Count == 0,
            Slow);
        // The apps' sending identity in their namespace stays (docs/install.md, like cert-manager's Secrets); the
        // documented clean-up removes it.
        var identities = (await Kube.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: "mailrelay.io/sending-identity=true")).Items;
        Assert.Equal(["shop/mail-relay-smtp"], identities.Select(s => $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name}"));
        await cluster.KubectlAsync("delete", "secret", "--all-namespaces", "-l", "mailrelay.io/sending-identity=true");
        Assert.Empty((await Kube.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: "mailrelay.io/sending-identity=true")).Items);
        Assert.Equal(["default"], (await Kube.CoreV1.ListNamespacedServiceAccountAsync(Ns)).Items.Select(s => s.Metadata.Name));
        // The operator's Lease stays (documented): the chart cannot make one the leader election accepts.
        Assert.Equal(["mail-relay-operator"], (await Kube.CoordinationV1.ListNamespacedLeaseAsync(Ns)).Items.Select(l => l.Metadata.Name));
        Assert.Empty((await Kube.CoreV1.ListNamespacedServiceAsync(Ns)).Items);
        Assert.Empty((await Kube.AppsV1.ListNamespacedStatefulSetAsync(Ns)).Items);
        Assert.Empty((await Kube.AppsV1.ListNamespacedDeploymentAsync(Ns)).Items);
        Assert.Empty((await Kube.NetworkingV1.ListNamespacedNetworkPolicyAsync(Ns)).Items);
        Assert.Empty((await Kube.RbacAuthorizationV1.ListNamespacedRoleAsync(Ns)).Items);
        Assert.DoesNotContain((await Kube.RbacAuthorizationV1.ListClusterRoleAsync()).Items, r => r.Metadata.Name.StartsWith("mail-relay", StringComparison.Ordinal));
        Assert.DoesNotContain((await Kube.RbacAuthorizationV1.ListClusterRoleBindingAsync()).Items, r => r.Metadata.Name.StartsWith("mail-relay", StringComparison.Ordinal));
        Assert.Equal(["spool-mail-relay-0", "spool-mail-relay-1"], (await Kube.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Ns)).Items.Select(p => p.Metadata.Name).Order());
    }

    public void Dispose()
    {
        _upstream?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<string> ConfigHashAsync()
    {
        var sts = await Kube.AppsV1.ReadNamespacedStatefulSetAsync("mail-relay", Ns);
        return sts.Spec.Template.Metadata.Annotations?.TryGetValue("mailrelay.io/config-hash", out var h) == true ? h : "";
    }

    private async Task RolledOutAsync()
    {
        await cluster.ToolAsync("kubectl", ["-n", Ns, "rollout", "status", "deployment/mail-relay-operator", "--timeout=180s"], null);
        await cluster.ToolAsync("kubectl", ["-n", Ns, "rollout", "status", "statefulset/mail-relay", "--timeout=180s"], null);
    }

    private async Task EveryRelayPodCarriesAsync(string hash)
    {
        var relayPods = (await Kube.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: "app.kubernetes.io/name=mail-relay")).Items;
        Assert.Equal(2, relayPods.Count);
        Assert.All(relayPods, p => Assert.Equal(hash, p.Metadata.Annotations["mailrelay.io/config-hash"]));
        Assert.All(relayPods, p => Assert.True(p.Status.ContainerStatuses.Single().Ready, p.Metadata.Name));
    }

    /// <summary>Every mailrelay program on the node runs as UID 10001 (read from /proc: the pods really run non-root).</summary>
    private static void AssertProgramsRunAsUser10001()
    {
        var programs = Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _))
            .Select(d => (Dir: d, Cmd: TryRead(Path.Combine(d, "cmdline"))))
            .Where(p => p.Cmd.StartsWith("/app/mailrelay", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(programs);
        foreach (var (dir, cmd) in programs)
        {
            var uid = TryRead(Path.Combine(dir, "status")).Split('\n').FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal)) ?? "";
            Assert.True(uid.Split('\t', StringSplitOptions.RemoveEmptyEntries).Skip(1).All(u => u == "10001"), $"{cmd.Replace('\0', ' ')}: {uid}");
        }
    }

    private static string TryRead(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>
    /// An app pod in the shop namespace sends with swaks (the test client image), as an app would: with the
    /// namespace's sending identity mounted from the Secret the operator wrote (host, port, username, password,
    /// ca.crt): STARTTLS verified against the operator's CA, then AUTH — or, when <paramref name="authenticate"/>
    /// is false, without AUTH. The test cluster has no DNS: the Secret's host name is mapped to the Service's
    /// address with hostAliases. Returns the pod's phase and swaks' transcript.
    /// </summary>
    private async Task<(string Phase, string Log)> SendFromPodAsync(string name, string serviceIp, string subject, bool authenticate = true)
    {
        var host = Encoding.UTF8.GetString((await Kube.CoreV1.ReadNamespacedSecretAsync("mail-relay-smtp", Shop)).Data["host"]);
        var auth = authenticate ? "--auth PLAIN --auth-user \"$(cat /smtp/username)\" --auth-password=\"$(cat /smtp/password)\"" : "";
        var script = $"exec swaks --server \"$(cat /smtp/host)\" --port \"$(cat /smtp/port)\" --tls --tls-verify --tls-ca-path /smtp/ca.crt {auth} " +
            "--helo client.shop --from app@example.com --to bob@partner.example --header \"Subject: $SUBJECT\" --body \"$SUBJECT\"";
        await cluster.ApplyAsync($$$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: {{{name}}}, namespace: {{{Shop}}}}
            spec:
              restartPolicy: Never
              automountServiceAccountToken: false
              hostAliases: [{ip: "{{{serviceIp}}}", hostnames: ["{{{host}}}"]}]
              securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
              containers:
                - name: client
                  image: localhost/mailrelay-testclient:0.1.0
                  imagePullPolicy: Never
                  command: [/bin/bash, -c]
                  args: ['{{{script.Replace("'", "''", StringComparison.Ordinal)}}}']
                  env: [{name: SUBJECT, value: "{{{subject}}}"}]
                  securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
                  volumeMounts: [{name: smtp, mountPath: /smtp, readOnly: true}]
              volumes: [{name: smtp, secret: {secretName: mail-relay-smtp}}]
            """);
        var phase = await Eventually.UntilAsync($"pod {name} to end", async () => (await Kube.CoreV1.ReadNamespacedPodAsync(name, Shop)).Status.Phase, p => p is "Succeeded" or "Failed", Slow, () => cluster.Logs());
        var log = (await cluster.KubectlAsync("-n", Shop, "logs", name)).Stdout;
        return (phase, log);
    }

    private async Task SendAuthenticatedFromPodAsync(string name, string serviceIp, string subject)
    {
        var (phase, log) = await SendFromPodAsync(name, serviceIp, subject);
        Assert.True(phase == "Succeeded", $"{name}: {phase}\n{log}");
        Assert.Contains("235 2.7.0", log); // AUTH
        Assert.Contains("250 2.0.0", log); // the message queued
    }
}
