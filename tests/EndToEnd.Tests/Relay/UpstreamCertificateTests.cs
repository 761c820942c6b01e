using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Relay;

/// <summary>
/// tls: Verify to an upstream named by its IP address, with the certificates the real-cluster test
/// issues (a CA called "upstream", server certificates named like it): the IP in the
/// subjectAltName alone is enough, with or without a DNS name beside it or the IP as CN; a
/// certificate for another address is refused and the log says why.
/// </summary>
public sealed class UpstreamCertificateTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir("upstream-cert");
    private readonly PeerSet _peers = new();

    [Theory]
    [InlineData("upstream", new[] { RelayWorld.UpstreamIp }, new string[0])]
    [InlineData("upstream", new[] { RelayWorld.UpstreamIp }, new[] { "upstream.test" })]
    [InlineData(RelayWorld.UpstreamIp, new[] { RelayWorld.UpstreamIp }, new string[0])]
    public async Task A_certificate_naming_the_IP_in_its_subjectAltName_is_verified(string commonName, string[] ips, string[] dnsNames)
    {
        var (relay, upstream) = await StartAsync(commonName, ips, dnsNames);
        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "shop@example.com", ["someone@example.net"]);
        Assert.True(code == 0, transcript);
        await relay.WaitUntilAsync(() => upstream.Messages().Count == 1, "delivery to the upstream");
        Assert.True(upstream.Messages()[0].Envelope.GetProperty("tls").GetBoolean());
    }

    [Fact]
    public async Task A_certificate_for_another_address_is_refused_as_a_name_mismatch()
    {
        var (relay, upstream) = await StartAsync("upstream", ["127.0.0.9"], ["upstream.test"]);
        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "shop@example.com", ["someone@example.net"]);
        Assert.True(code == 0, transcript);
        await relay.WaitUntilAsync(() => relay.Log.Contains("TLS handshake failed: the certificate does not name the host", StringComparison.Ordinal), "the refusal in the log");
        Assert.Empty(upstream.Messages());
    }

    public void Dispose() => _peers.Dispose();

    private async Task<(RelayProcess Relay, UpstreamRelay Upstream)> StartAsync(string commonName, string[] ips, string[] dnsNames)
    {
        var ca = new TestCertificates(_dir, "upstream");
        var upstream = _peers.Keep(await UpstreamRelay.StartAsync(RelayWorld.UpstreamIp, ca.Issue(commonName, ips, dnsNames), RelayWorld.User, RelayWorld.Password));
        var routes = Path.Combine(_dir, "routes", "routes.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(routes)!);
        await File.WriteAllTextAsync(routes, $$"""
            apiVersion: mailrelay.io/v1alpha1
            kind: RoutingTable
            routes:
              - name: shop/example-com-via-upstream
                created: "2026-11-01T09:00:00Z"
                senders: [example.com]
                relay: {host: "{{RelayWorld.UpstreamIp}}", port: {{upstream.Port}}, tls: Verify, credential: shop.ses}
            """);
        RelayWorld.WriteCredentials(Path.Combine(_dir, "credentials"), "shop.ses", RelayWorld.User, RelayWorld.Password);
        var relay = _peers.Keep(await RelayProcess.StartAsync(
            "--routes", routes, "--credentials", Path.Combine(_dir, "credentials"), "--spool", Path.Combine(_dir, "spool"),
            "--allowed-networks", "127.0.0.0/8", "--default-action", "reject", "--trust-ca", ca.CaFile, "--retry-min", "1s", "--retry-max", "2s"));
        return (relay, upstream);
    }
}
