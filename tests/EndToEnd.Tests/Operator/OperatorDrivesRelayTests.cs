using System.Text;
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
