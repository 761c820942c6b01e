using System.Text;
using k8s;
using MailRelay.EndToEnd.Tests.Peers;
using MailRelay.EndToEnd.Tests.Relay;

namespace MailRelay.EndToEnd.Tests.Operator;

/// <summary>
/// End to end: MailRoute + RelayCredential + Secret applied to a real API server; the ConfigMap and
/// Secret the operator writes are mounted (as the kubelet does) into the real relay; swaks sends;
/// the message takes the route the MailRoute asked for (its sender domain granted to the shop by a
/// MailDomain, the operator trusting only its own namespace). A route edit then reaches the running relay.
/// </summary>
[Collection(ControlPlaneCollection.Name)]
public sealed class OperatorDrivesRelayTests(ControlPlane cluster) : IDisposable
{
    private readonly KubeHelpers _kube = new(cluster);
    private readonly PeerSet _peers = new();
    private readonly string _dir = TestPaths.TempDir("op-relay");

    [Fact]
    public async Task A_message_takes_the_route_the_MailRoute_asked_for()
    {
        await _kube.DeleteAllRoutesAndCredentialsAsync();
        const string relayNs = "e2e-relay";
        const string shop = "e2e-shop";
        await cluster.EnsureNamespaceAsync(relayNs);
        await cluster.EnsureNamespaceAsync(shop);
        await _kube.CreateRelayDeploymentAsync(relayNs);

        var ca = new TestCertificates(_dir, "ca");
        var upstream = Keep(await UpstreamRelay.StartAsync(RelayWorld.UpstreamIp, ca.Issue("up", [RelayWorld.UpstreamIp], []), "AKIAOPERATOR", "operator-made-password"));
        var sink = Keep(await SmtpSink.StartAsync(RelayWorld.SinkIp));
        var dns = Keep(await Dnsmasq.StartAsync([("example.net", "mx.example.net", 10)], [("mx.example.net", RelayWorld.SinkIp)]));

        await _kube.CreateMailDomainAsync("example.com", "example.com", shop); // the cluster admin grants the shop its domain
        await _kube.CreateSecretAsync(shop, "ses-smtp", new() { ["username"] = "AKIAOPERATOR", ["password"] = "operator-made-password" });
        await _kube.CreateAsync($"apiVersion: mailrelay.io/v1alpha1\nkind: RelayCredential\nmetadata: {{name: ses, namespace: {shop}}}\nspec:\n  secretRef: {{name: ses-smtp}}\n");
        await _kube.CreateAsync($"apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: example-com-via-ses, namespace: {shop}}}\nspec:\n  senders: [example.com]\n  relay: {{host: \"{RelayWorld.UpstreamIp}\", port: {upstream.Port}, tls: Verify, credentialRef: {{name: ses}}}}\n");
        var op = Keep(await OperatorProcess.StartAsync(cluster, relayNs));
        await Eventually.UntilAsync("Programmed", () => _kube.ConditionAsync(shop, "example-com-via-ses", "Programmed"), v => v?.Status == "True", context: () => op.Log);

        var routesDir = Path.Combine(_dir, "routes");
        var credentialsDir = Path.Combine(_dir, "credentials");
        await MountAsync(relayNs, routesDir, credentialsDir);
        var relay = Keep(await RelayProcess.StartAsync(
            "--routes", Path.Combine(routesDir, "routes.yaml"), "--credentials", credentialsDir, "--spool", Path.Combine(_dir, "spool"),
            "--dns-server", dns.Endpoint, "--direct-port", RelayProcess.Arg(sink.Port), "--trust-ca", ca.CaFile,
            "--retry-min", "1s", "--retry-max", "2s", "--reload-interval", "200ms"));

        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["bob@example.net"], "--header", "Subject: via-operator-route")).ExitCode);
        await relay.WaitUntilAsync(() => upstream.Messages().Count == 1, "delivery through the upstream the MailRoute names");
        Assert.Equal("AKIAOPERATOR", upstream.Messages()[0].Envelope.GetProperty("login").GetString());
        Assert.Empty(sink.Messages());

        // The user edits the route to direct delivery: operator -> ConfigMap -> mounted file -> relay.
        await _kube.PatchSpecAsync(shop, "example-com-via-ses", new { relay = (object?)null, direct = new { } });
        await Eventually.UntilAsync("the new table", () => _kube.RoutesYamlAsync(relayNs), v => v?.Contains("direct: {}", StringComparison.Ordinal) == true, context: () => op.Log);
        await MountAsync(relayNs, routesDir, credentialsDir);
        await relay.WaitUntilAsync(() => relay.Log.Split('\n').Count(l => l.Contains("Loaded routing table", StringComparison.Ordinal)) >= 2, "the relay reloading");

        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["bob@example.net"], "--header", "Subject: after-edit")).ExitCode);
        await relay.WaitUntilAsync(() => sink.Messages().Any(m => m.Contains("after-edit", StringComparison.Ordinal)), "direct delivery after the edit");
        Assert.Single(upstream.Messages());
        Assert.DoesNotContain("operator-made-password", relay.Log + op.Log);
    }

    /// <summary>
    /// Issue 9 (fail closed): delete the SES Secret while mail flows, and every message sent afterwards
    /// is queued and held, none reaches the direct MX; recreate it, and all held mail arrives at the
    /// SES stand-in, authenticated, within seconds (not at its backoff slot: --retry-min is 300 s).
    /// The two volumes are updated one after the other, as the kubelet may: the relay holds a route
    /// whose credential files are gone even while its routes file still says relay.
    /// </summary>
    [Fact]
    public async Task Deleting_the_SES_Secret_holds_the_mail_and_recreating_it_delivers_all_of_it_authenticated_within_seconds()
    {
        await _kube.DeleteAllRoutesAndCredentialsAsync();
        const string relayNs = "e2e-held-relay";
        const string shop = "e2e-held-shop";
        const string route = shop + "/example-com-via-ses";
        await cluster.EnsureNamespaceAsync(relayNs);
        await cluster.EnsureNamespaceAsync(shop);
        await _kube.CreateRelayDeploymentAsync(relayNs);

        var ca = new TestCertificates(_dir, "ca");
        var upstream = Keep(await UpstreamRelay.StartAsync(RelayWorld.UpstreamIp, ca.Issue("up", [RelayWorld.UpstreamIp], []), "AKIAHELD", "held-route-password"));
        var sink = Keep(await SmtpSink.StartAsync(RelayWorld.SinkIp));
        var dns = Keep(await Dnsmasq.StartAsync([("example.net", "mx.example.net", 10)], [("mx.example.net", RelayWorld.SinkIp)]));

        await _kube.CreateMailDomainAsync("example.com", "example.com", shop); // the cluster admin grants the shop its domain
        var secret = new Dictionary<string, string> { ["username"] = "AKIAHELD", ["password"] = "held-route-password" };
        await _kube.CreateSecretAsync(shop, "ses-smtp", secret);
        await _kube.CreateAsync($"apiVersion: mailrelay.io/v1alpha1\nkind: RelayCredential\nmetadata: {{name: ses, namespace: {shop}}}\nspec:\n  secretRef: {{name: ses-smtp}}\n");
        await _kube.CreateAsync($"apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: example-com-via-ses, namespace: {shop}}}\nspec:\n  senders: [example.com]\n  relay: {{host: \"{RelayWorld.UpstreamIp}\", port: {upstream.Port}, tls: Verify, credentialRef: {{name: ses}}}}\n");
        var op = Keep(await OperatorProcess.StartAsync(cluster, relayNs));
        await Eventually.UntilAsync("Programmed", () => _kube.ConditionAsync(shop, "example-com-via-ses", "Programmed"), v => v?.Reason == "Programmed", context: () => op.Log);

        var routesDir = Path.Combine(_dir, "routes");
        var credentialsDir = Path.Combine(_dir, "credentials");
        await MountAsync(relayNs, routesDir, credentialsDir);
        var relay = Keep(await RelayProcess.StartAsync(
            "--routes", Path.Combine(routesDir, "routes.yaml"), "--credentials", credentialsDir, "--spool", Path.Combine(_dir, "spool"),
            "--dns-server", dns.Endpoint, "--direct-port", RelayProcess.Arg(sink.Port), "--trust-ca", ca.CaFile,
            "--retry-min", "300s", "--retry-max", "600s", "--reload-interval", "200ms"));
        int Loads() => relay.Log.Split('\n').Count(l => l.Contains("Loaded routing table", StringComparison.Ordinal));

        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["bob@example.net"], "--header", "Subject: before-delete")).ExitCode);
        await relay.WaitUntilAsync(() => upstream.Messages().Count == 1, "mail flowing through SES");

        // The Secret goes: the operator keeps the route, held, and says so.
        await _kube.Client.CoreV1.DeleteNamespacedSecretAsync("ses-smtp", shop);
        await Eventually.UntilAsync("the held route in the table", () => _kube.RoutesYamlAsync(relayNs), v => v?.Contains("hold:", StringComparison.Ordinal) == true, context: () => op.Log);
        var accepted = await Eventually.UntilAsync("Accepted=False CredentialNotFound", () => _kube.ConditionAsync(shop, "example-com-via-ses", "Accepted"), v => v?.Reason == "CredentialNotFound", context: () => op.Log);
        Assert.Equal("False", accepted!.Value.Status);
        var programmed = await Eventually.UntilAsync("Programmed=True Held", () => _kube.ConditionAsync(shop, "example-com-via-ses", "Programmed"), v => v?.Reason == "Held", context: () => op.Log);
        Assert.Equal("True", programmed!.Value.Status);
        await Eventually.UntilAsync("a Warning Event", () => WarningEventsAsync(shop, "example-com-via-ses"), v => v.Any(e => e.Reason == "CredentialNotFound" && e.Message.Contains("held", StringComparison.Ordinal)), context: () => op.Log);
        Assert.Empty(await _kube.RelaySecretAsync(relayNs) ?? new Dictionary<string, byte[]>());

        // The kubelet updates the Secret volume first: the relay itself holds the route (no AUTH-less sending, no fall-through).
        var loads = Loads();
        KubeletVolume.Write(credentialsDir, (await _kube.RelaySecretAsync(relayNs))!);
        await relay.WaitUntilAsync(() => Loads() > loads, "the relay loading the credentials without the SES key");
        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["bob@example.net"], "--header", "Subject: held-1")).ExitCode);

        // Then the ConfigMap volume: the operator's hold route.
        loads = Loads();
        KubeletVolume.Write(routesDir, new Dictionary<string, byte[]> { ["routes.yaml"] = Encoding.UTF8.GetBytes((await _kube.RoutesYamlAsync(relayNs))!) });
        await relay.WaitUntilAsync(() => Loads() > loads, "the relay loading the hold table");
        foreach (var n in new[] { 2, 3, 4 })
        {
            Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["bob@example.net"], "--header", $"Subject: held-{n}")).ExitCode);
        }

        await Eventually.UntilAsync("four held messages in the metric", () => relay.MetricsAsync(), m => m.Contains($"mailrelay_held_messages{{route=\"{route}\"}} 4", StringComparison.Ordinal), context: () => relay.Log);
        Assert.Contains("held: CredentialNotFound", relay.Log, StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(1)); // anything that would leak out has had time to
        Assert.Empty(sink.Messages());
        Assert.Single(upstream.Messages());

        // The Secret comes back: the operator programs the relay route again; the volumes follow, routes first.
        await _kube.CreateSecretAsync(shop, "ses-smtp", secret);
        await Eventually.UntilAsync("Programmed=True Programmed", () => _kube.ConditionAsync(shop, "example-com-via-ses", "Programmed"), v => v?.Reason == "Programmed", context: () => op.Log);
        Assert.Equal(("True", "Accepted"), ((await _kube.ConditionAsync(shop, "example-com-via-ses", "Accepted"))!.Value.Status, (await _kube.ConditionAsync(shop, "example-com-via-ses", "Accepted"))!.Value.Reason));
        loads = Loads();
        KubeletVolume.Write(routesDir, new Dictionary<string, byte[]> { ["routes.yaml"] = Encoding.UTF8.GetBytes((await _kube.RoutesYamlAsync(relayNs))!) });
        await relay.WaitUntilAsync(() => Loads() > loads, "the relay loading the relay route (its credential files still missing)");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Single(upstream.Messages()); // still held by the relay itself: never sent without AUTH

        KubeletVolume.Write(credentialsDir, (await _kube.RelaySecretAsync(relayNs))!);
        var released = System.Diagnostics.Stopwatch.StartNew();
        await relay.WaitUntilAsync(() => upstream.Messages().Count == 5, "all held mail at the SES stand-in", TimeSpan.FromSeconds(20));
        Assert.True(released.Elapsed < TimeSpan.FromSeconds(20), $"took {released.Elapsed}");

        var subjects = upstream.Messages().Select(m => Encoding.UTF8.GetString(m.Data)).ToList();
        foreach (var subject in new[] { "before-delete", "held-1", "held-2", "held-3", "held-4" })
        {
            Assert.Single(subjects, s => s.Contains("Subject: " + subject, StringComparison.Ordinal));
        }

        Assert.All(upstream.Messages(), m => Assert.Equal("AKIAHELD", m.Envelope.GetProperty("login").GetString()));
        Assert.Empty(sink.Messages());
        await Eventually.UntilAsync("the held gauge cleared", () => relay.MetricsAsync(), m => !m.Contains($"mailrelay_held_messages{{route=\"{route}\"}}", StringComparison.Ordinal), context: () => relay.Log);
        Assert.DoesNotContain("held-route-password", relay.Log + op.Log);
    }

    private async Task<List<(string Reason, string Message)>> WarningEventsAsync(string ns, string name)
    {
        var events = await _kube.Client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: $"involvedObject.name={name}");
        return events.Items.Where(e => e.Type == "Warning").Select(e => (e.Reason, e.Message)).ToList();
    }

    public void Dispose() => _peers.Dispose();

    private async Task MountAsync(string relayNs, string routesDir, string credentialsDir)
    {
        var routes = await _kube.RoutesYamlAsync(relayNs);
        KubeletVolume.Write(routesDir, new Dictionary<string, byte[]> { ["routes.yaml"] = Encoding.UTF8.GetBytes(routes!) });
        KubeletVolume.Write(credentialsDir, (await _kube.RelaySecretAsync(relayNs))!);
    }

    private T Keep<T>(T peer)
        where T : IDisposable => _peers.Keep(peer);
}
