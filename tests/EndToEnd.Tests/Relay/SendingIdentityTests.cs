using MailRelay.Contracts.Clients;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Relay;

/// <summary>
/// Sending identities against the real relay (docs/relay.md "Sending identities"): a client table
/// (<c>--clients</c>, as the operator writes it) with namespace shop owning example.com and blog
/// owning blog.example; clients authenticate over STARTTLS with swaks.
/// </summary>
public sealed class SendingIdentityTests : IDisposable
{
    private const string ShopPassword = "shop-Pa55-8Jq2x";
    private const string BlogPassword = "blog-Pa55-Zr41k";
    private const string LatePassword = "late-Pa55-Qw93m";

    private readonly string _dir = TestPaths.TempDir("identities");
    private readonly PeerSet _peers = new();
    private TestCertificates? _ca;
    private int _relayPort;

    private string ClientsFile => Path.Combine(_dir, "clients", "clients.yaml");

    private string QueueDir => Path.Combine(_dir, "spool", "queue");

    [Fact]
    public async Task An_identity_may_send_as_its_own_domain_only_and_a_client_without_AUTH_not_as_a_covered_domain()
    {
        var (relay, sink) = await StartAsync();

        // namespace shop's credentials, sender in blog's domain: 553 at MAIL FROM, nothing queued
        var other = await SendAsAsync(relay, "shop", ShopPassword, "anna@blog.example", "as-blog");
        Assert.NotEqual(0, other.ExitCode);
        Assert.Matches(@"<~?\*{0,2} +553 5\.7\.1 sender <anna@blog\.example> is not owned by user shop", other.Transcript);
        Assert.Contains("Refused sender <anna@blog.example> from client 127.0.0.9 (user shop)", relay.Log);

        // its own domain (and a subdomain): delivered by its route
        var own = await SendAsAsync(relay, "shop", ShopPassword, "anna@eu.example.com", "as-shop");
        Assert.True(own.ExitCode == 0, own.Transcript);
        await relay.WaitUntilAsync(() => sink.Messages().Any(m => m.Contains("as-shop", StringComparison.Ordinal)), "delivery of shop's message");
        await relay.WaitUntilAsync(() => relay.Log.Contains("via route shop/example-com", StringComparison.Ordinal), "the delivery logged with shop's route"); // logged after the sink's 250

        // a client relaying without AUTH (allowed network) may not use a covered domain, only others
        var anonymous = await Swaks.SendAsync(relay.SmtpPort, "anna@example.com", ["b@example.net"], "--header", "Subject: anonymous-covered");
        Assert.NotEqual(0, anonymous.ExitCode);
        Assert.Matches(@"<~?\*{0,2} +553 5\.7\.1 sender domain example\.com belongs to a MailDomain", anonymous.Transcript);
        var unclaimed = await Swaks.SendAsync(relay.SmtpPort, "anna@unclaimed.test", ["b@example.net"], "--header", "Subject: anonymous-unclaimed");
        Assert.True(unclaimed.ExitCode == 0, unclaimed.Transcript);
        await relay.WaitUntilAsync(() => sink.Messages().Any(m => m.Contains("anonymous-unclaimed", StringComparison.Ordinal)), "delivery of the unclaimed sender's message");

        Assert.DoesNotContain(sink.Messages(), m => m.Contains("as-blog", StringComparison.Ordinal) || m.Contains("anonymous-covered", StringComparison.Ordinal));
        Assert.Equal(2, relay.Log.Split('\n').Count(l => l.Contains("Queued ", StringComparison.Ordinal)));
        Assert.DoesNotContain(ShopPassword, relay.Log);
        Assert.Contains("mailrelay_refused_recipients_total{reason=\"sender_not_owned\"} 2", await relay.MetricsAsync());
    }

    [Fact]
    public async Task The_client_table_is_reloaded_without_a_restart_and_a_removed_identity_stops_authenticating()
    {
        var (relay, sink) = await StartAsync();
        Assert.NotEqual(0, (await SendAsAsync(relay, "late", LatePassword, "x@late.example", "before")).ExitCode);

        // the operator grants late.example to namespace late and takes blog's MailDomain away
        WriteTable(
            new ClientEntry("shop", "shop", false, PasswordHash.Create(ShopPassword), [new DomainGrant("example.com", true)]),
            new ClientEntry("late", "late", false, PasswordHash.Create(LatePassword), [new DomainGrant("late.example", true)]));
        await relay.WaitUntilAsync(() => relay.Log.Contains("Loaded client table: 2 sending identit(ies) (late (namespace late), shop (namespace shop))", StringComparison.Ordinal), "the reload");

        var late = await SendAsAsync(relay, "late", LatePassword, "x@late.example", "after-reload");
        Assert.True(late.ExitCode == 0, late.Transcript);
        await relay.WaitUntilAsync(() => sink.Messages().Any(m => m.Contains("after-reload", StringComparison.Ordinal)), "delivery after the reload");

        var blog = await SendAsAsync(relay, "blog", BlogPassword, "bob@blog.example", "blog-gone");
        Assert.NotEqual(0, blog.ExitCode);
        Assert.Matches(@"<~?\*{0,2} +535", blog.Transcript);
        var anonymous = await Swaks.SendAsync(relay.SmtpPort, "bob@blog.example", ["b@example.net"], "--header", "Subject: blog-uncovered");
        Assert.True(anonymous.ExitCode == 0, anonymous.Transcript); // no MailDomain covers blog.example any more

        // a broken table is refused and the last good one stays in force
        await File.WriteAllTextAsync(ClientsFile, "kind: ClientTable\nclients:\n  - user: x\n    passwordHash: nope\n");
        await relay.WaitUntilAsync(() => relay.Log.Contains("rejected client table", StringComparison.Ordinal), "the refusal");
        Assert.Equal(0, (await SendAsAsync(relay, "shop", ShopPassword, "a@example.com", "still-good")).ExitCode);
        Assert.DoesNotContain(LatePassword, relay.Log);
    }

    [Fact]
    public async Task A_renewed_certificate_file_is_used_by_the_next_STARTTLS_without_a_restart()
    {
        var (relay, _) = await StartAsync();
        Assert.Equal("CN=relay-ca test CA", await ServedIssuerAsync(relay));

        var renewed = new TestCertificates(_dir, "renewed-ca").Issue("renewed", ["127.0.0.1"], ["relay.test"]);
        foreach (var (from, to) in new[] { (renewed.Key, CertFiles.Key), (renewed.Cert, CertFiles.Cert) })
        {
            File.Copy(from, to + ".tmp", overwrite: true);
            File.Move(to + ".tmp", to, overwrite: true);
        }

        await Eventually.UntilAsync<string>("the renewed certificate served", () => ServedIssuerAsync(relay), issuer => issuer == "CN=renewed-ca test CA", context: () => relay.Log);
        Assert.Contains("Loaded a new TLS certificate: CN=renewed", relay.Log);
        Assert.Equal(0, (await SendAsAsync(relay, "shop", ShopPassword, "a@example.com", "after-renewal")).ExitCode);
    }

    [Fact]
    public async Task Mailrelay_send_sends_with_a_mounted_identity_over_verified_STARTTLS_and_AUTH()
    {
        var (relay, sink) = await StartAsync();
        var identity = WriteIdentity("shop", ShopPassword, _ca!.CaFile);

        var sent = await MailrelaySendAsync(identity, "anna@example.com", "via-mailrelay-send");
        Assert.True(sent.ExitCode == 0, sent.Output);
        Assert.Contains($"sent as shop to 127.0.0.1:{relay.SmtpPort}: 2.0.0", sent.Output);
        Assert.Contains("AUTH PLAIN ********", sent.Output); // the exchange is shown, the secret redacted
        Assert.DoesNotContain(ShopPassword, sent.Output);
        await relay.WaitUntilAsync(() => sink.Messages().Any(m => m.Contains("via-mailrelay-send", StringComparison.Ordinal)), "delivery of the test message");

        // a sender outside the identity's grants: the relay's 553 is shown, exit 1
        var refused = await MailrelaySendAsync(identity, "anna@blog.example", "refused");
        Assert.True(refused.ExitCode == 1, refused.Output);
        Assert.Contains("error: not sent", refused.Output);
        Assert.Contains("553", refused.Output);

        // a CA that did not issue the relay's certificate: no AUTH is attempted, exit 1
        var stranger = WriteIdentity("shop", ShopPassword, new TestCertificates(_dir, "stranger-ca").CaFile, "stranger");
        var unverified = await MailrelaySendAsync(stranger, "anna@example.com", "unverified");
        Assert.True(unverified.ExitCode == 1, unverified.Output);
        Assert.DoesNotContain("AUTH PLAIN", unverified.Output);

        // an identity without its password file: exit 2, the key named
        File.Delete(Path.Combine(stranger, "password"));
        var broken = await MailrelaySendAsync(stranger, "anna@example.com", "broken");
        Assert.True(broken.ExitCode == 2, broken.Output);
        Assert.Contains("the key 'password' of the mail-relay-smtp Secret", broken.Output);
        Assert.DoesNotContain(sink.Messages(), m => m.Contains("Subject: refused", StringComparison.Ordinal) || m.Contains("Subject: unverified", StringComparison.Ordinal));
    }

    public void Dispose() => _peers.Dispose();

    /// <summary>A directory as the mail-relay-smtp Secret mounts: host, port, username, password, ca.crt.</summary>
    private string WriteIdentity(string user, string password, string caFile, string name = "identity")
    {
        var dir = Directory.CreateDirectory(Path.Combine(_dir, name)).FullName;
        File.WriteAllText(Path.Combine(dir, "host"), "127.0.0.1");
        File.WriteAllText(Path.Combine(dir, "port"), RelayProcess.Arg(_relayPort));
        File.WriteAllText(Path.Combine(dir, "username"), user);
        File.WriteAllText(Path.Combine(dir, "password"), password);
        File.Copy(caFile, Path.Combine(dir, "ca.crt"), overwrite: true);
        return dir;
    }

    private static async Task<(int ExitCode, string Output)> MailrelaySendAsync(string identity, string from, string subject)
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet", [TestPaths.RelayDll, "send", "--identity", identity, "--from", from, "--to", "b@example.net", "--subject", subject])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private (string Cert, string Key) CertFiles => (Path.Combine(_dir, "relay.crt"), Path.Combine(_dir, "relay.key"));

    /// <summary>The issuer of the certificate the relay presents after STARTTLS.</summary>
    private static async Task<string> ServedIssuerAsync(RelayProcess relay)
    {
        using var client = new MailKit.Net.Smtp.SmtpClient();
        string? issuer = null;
        client.ServerCertificateValidationCallback = (_, certificate, _, _) =>
        {
            issuer = certificate?.Issuer;
            return true;
        };
        await client.ConnectAsync("127.0.0.1", relay.SmtpPort, MailKit.Security.SecureSocketOptions.StartTls);
        await client.DisconnectAsync(true);
        return issuer ?? string.Empty;
    }

    private static Task<(int ExitCode, string Transcript)> SendAsAsync(RelayProcess relay, string user, string password, string from, string subject) =>
        Swaks.SendAsync(relay.SmtpPort, from, ["b@example.net"], "--local-interface", "127.0.0.9", "--tls",
            "--auth", "PLAIN", "--auth-user", user, "--auth-password", password, "--header", "Subject: " + subject);

    private void WriteTable(params ClientEntry[] clients)
    {
        var covered = clients.SelectMany(c => c.Domains).OrderBy(d => d.Domain, StringComparer.Ordinal).ToList();
        var temp = ClientsFile + ".tmp";
        File.WriteAllText(temp, ClientTableYaml.Render(new ClientTable(clients, covered)));
        File.Move(temp, ClientsFile, overwrite: true); // atomic, as a Secret volume swaps its files
    }

    private async Task<(RelayProcess Relay, SmtpSink Sink)> StartAsync()
    {
        _ca = new TestCertificates(_dir, "relay-ca");
        var (cert, key) = _ca.Issue("relay", ["127.0.0.1"], ["relay.test"]);
        Directory.CreateDirectory(Path.GetDirectoryName(ClientsFile)!);
        WriteTable(
            new ClientEntry("shop", "shop", false, PasswordHash.Create(ShopPassword), [new DomainGrant("example.com", true)]),
            new ClientEntry("blog", "blog", false, PasswordHash.Create(BlogPassword), [new DomainGrant("blog.example", false)]));
        var sink = _peers.Keep(await SmtpSink.StartAsync(RelayWorld.SinkIp));
        var dns = _peers.Keep(await Dnsmasq.StartAsync([("example.net", "mx.example.net", 10)], [("mx.example.net", RelayWorld.SinkIp)]));
        var routes = Path.Combine(_dir, "routes", "routes.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(routes)!);
        await File.WriteAllTextAsync(routes, """
            apiVersion: mailrelay.io/v1alpha1
            kind: RoutingTable
            routes:
              - name: shop/example-com
                created: "2026-11-01T09:00:00Z"
                senders: [example.com, "*.example.com"]
                direct: {}
            """);
        var relay = _peers.Keep(await RelayProcess.StartAsync(
            "--routes", routes, "--credentials", Path.Combine(_dir, "credentials"), "--spool", Path.Combine(_dir, "spool"),
            "--allowed-networks", "127.0.0.1/32", "--dns-server", dns.Endpoint, "--direct-port", RelayProcess.Arg(sink.Port),
            "--tls-cert", cert, "--tls-key", key, "--clients", ClientsFile, "--reload-interval", "200ms",
            "--retry-min", "1s", "--retry-max", "2s"));
        _relayPort = relay.SmtpPort;
        return (relay, sink);
    }
}
