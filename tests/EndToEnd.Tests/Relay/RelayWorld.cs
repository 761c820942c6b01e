using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Relay;

/// <summary>
/// The headline scenario on loopback: an aiosmtpd "SES" on 127.0.0.2 requiring STARTTLS + AUTH
/// with a test CA; smtp-sink on 127.0.0.3 published by dnsmasq as the MX of example.net and
/// partner.example; the real relay between them.
/// </summary>
public sealed class RelayWorld : IAsyncLifetime
{
    public const string UpstreamIp = "127.0.0.2";
    public const string SinkIp = "127.0.0.3";
    public const string User = "AKIAEXAMPLEUSER";
    public const string Password = "ses-Secret-Pa55word";

    public string Dir { get; } = TestPaths.TempDir("world");

    public TestCertificates Ca { get; private set; } = null!;

    public UpstreamRelay Upstream { get; private set; } = null!;

    public SmtpSink Sink { get; private set; } = null!;

    public Dnsmasq Dns { get; private set; } = null!;

    public RelayProcess Relay { get; private set; } = null!;

    public string RoutesFile => Path.Combine(Dir, "routes", "routes.yaml");

    public string CredentialsDir => Path.Combine(Dir, "credentials");

    public async Task InitializeAsync()
    {
        Ca = new TestCertificates(Dir, "test");
        Upstream = await UpstreamRelay.StartAsync(UpstreamIp, Ca.Issue("upstream", [UpstreamIp], ["upstream.test"]), User, Password);
        Sink = await SmtpSink.StartAsync(SinkIp);
        Dns = await Dnsmasq.StartAsync(
            [("example.net", "mx.example.net", 10), ("partner.example", "mx.example.net", 10)],
            [("mx.example.net", SinkIp)]);
        WriteCredentials(CredentialsDir, "shop.ses", User, Password);
        Directory.CreateDirectory(Path.GetDirectoryName(RoutesFile)!);
        File.WriteAllText(RoutesFile, Routes(Upstream.Port));
        Relay = await RelayProcess.StartAsync(
            "--routes", RoutesFile, "--credentials", CredentialsDir, "--spool", Path.Combine(Dir, "spool"),
            "--allowed-networks", "127.0.0.1/32", "--dns-server", Dns.Endpoint, "--direct-port", RelayProcess.Arg(Sink.Port),
            "--trust-ca", Ca.CaFile, "--max-message-size", "200k", "--retry-min", "1s", "--retry-max", "2s", "--reload-interval", "200ms");
    }

    public static string Routes(int upstreamPort) => $$"""
        apiVersion: mailrelay.io/v1alpha1
        kind: RoutingTable
        routes:
          - name: shop/example-com-via-ses
            created: "2026-11-01T09:00:00Z"
            senders: [example.com, "*.example.com"]
            relay: {host: "{{UpstreamIp}}", port: {{upstreamPort}}, tls: Verify, credential: shop.ses}
          - name: shop/billing-address
            created: "2026-11-02T09:00:00Z"
            senders: [billing@example.org]
            relay: {host: "{{UpstreamIp}}", port: {{upstreamPort}}, tls: Verify, credential: shop.ses}
          - name: ops/partner-direct
            created: "2026-11-03T09:00:00Z"
            senders: ["*"]
            recipients: [partner.example]
            direct: {}
          - name: ops/vip-direct
            priority: 100
            created: "2026-11-04T09:00:00Z"
            senders: [example.com]
            recipients: [vip@example.net]
            direct: {}
          - name: ops/blocked
            created: "2026-11-05T09:00:00Z"
            senders: [spammy.example]
            reject: {message: "spammy.example may not send through this relay"}
        """;

    public static void WriteCredentials(string dir, string name, string user, string password)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, name + ".username"), user);
        File.WriteAllText(Path.Combine(dir, name + ".password"), password);
    }

    public Task DisposeAsync()
    {
        Relay?.Dispose();
        Upstream?.Dispose();
        Sink?.Dispose();
        Dns?.Dispose();
        return Task.CompletedTask;
    }
}
