using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Relay;

/// <summary>What the relay does when the upstream is not trustworthy, throttles, or the relay itself restarts.</summary>
public sealed class DeliveryFailureTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir("failures");
    private readonly PeerSet _peers = new();

    [Theory]
    [InlineData("wrong-name")]
    [InlineData("untrusted-ca")]
    public async Task Under_Verify_a_bad_certificate_means_nothing_sent_no_AUTH_and_the_message_deferred(string problem)
    {
        var trusted = new TestCertificates(_dir, "trusted");
        var other = new TestCertificates(_dir, "other");
        var cert = problem == "wrong-name"
            ? trusted.Issue("wrong-name", [], ["wrong.example"])
            : other.Issue("untrusted", [RelayWorld.UpstreamIp], []);
        var upstream = Keep(await UpstreamRelay.StartAsync(RelayWorld.UpstreamIp, cert, RelayWorld.User, RelayWorld.Password));
        var relay = Keep(await StartRelayAsync(upstream.Port, trusted.CaFile));

        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["bob@gmail.test"]);
        Assert.True(code == 0, transcript);

        await relay.WaitUntilAsync(() => relay.Log.Contains("1 deferred", StringComparison.Ordinal), "a deferred delivery");
        Assert.Contains(problem == "wrong-name" ? "TLS handshake failed: the certificate does not name the host" : "TLS handshake failed: certificate not trusted", relay.Log);
        Assert.Empty(upstream.Messages());
        Assert.Equal(0, upstream.AuthAttempts);
        var metrics = await relay.MetricsAsync();
        Assert.Contains("mailrelay_queue_depth 1", metrics);
        Assert.Contains("mailrelay_deferred_total{route=\"shop/example-com-via-ses\"}", metrics);
        Assert.DoesNotContain(RelayWorld.Password, relay.Log);
    }

    [Fact]
    public async Task An_upstream_4xx_then_2xx_delivers_the_message_exactly_once()
    {
        var ca = new TestCertificates(_dir, "ca");
        var upstream = Keep(await UpstreamRelay.StartAsync(RelayWorld.UpstreamIp, ca.Issue("up", [RelayWorld.UpstreamIp], []), RelayWorld.User, RelayWorld.Password, failFirst: 1));
        var relay = Keep(await StartRelayAsync(upstream.Port, ca.CaFile));

        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["bob@gmail.test"], "--header", "Subject: throttled-once");
        Assert.True(code == 0, transcript);

        await relay.WaitUntilAsync(() => upstream.Messages().Count == 1, "delivery after the retry");
        Assert.Contains("454", relay.Log);
        await Task.Delay(TimeSpan.FromSeconds(3)); // longer than --retry-max: a second copy would have arrived by now
        Assert.Single(upstream.Messages());
        Assert.Contains("mailrelay_queue_depth 0", await relay.MetricsAsync());
    }

    [Fact]
    public async Task A_message_queued_when_the_relay_is_killed_is_delivered_after_the_restart()
    {
        var ca = new TestCertificates(_dir, "ca");
        var upstreamPort = Keep(new PortReservation(RelayWorld.UpstreamIp)); // held, nothing listens there yet
        var relay = Keep(await StartRelayAsync(upstreamPort.Port, ca.CaFile, retryMin: "30s"));

        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["bob@gmail.test"], "--header", "Subject: survives-restart");
        Assert.True(code == 0, transcript);
        await relay.WaitUntilAsync(() => relay.Log.Contains("1 deferred", StringComparison.Ordinal), "the first, failed attempt");
        relay.Kill();

        var upstream = Keep(await UpstreamRelay.StartAsync(RelayWorld.UpstreamIp, ca.Issue("up", [RelayWorld.UpstreamIp], []), RelayWorld.User, RelayWorld.Password, reserved: upstreamPort));
        await relay.StartAgainAsync();

        await relay.WaitUntilAsync(() => upstream.Messages().Count == 1, "delivery after the restart");
        Assert.Contains("survives-restart", System.Text.Encoding.UTF8.GetString(upstream.Messages()[0].Data));
    }

    [Fact]
    public async Task A_broken_routing_table_is_rejected_and_the_last_good_one_stays_in_force()
    {
        var ca = new TestCertificates(_dir, "ca");
        var relay = Keep(await StartRelayAsync(NoUpstream(), ca.CaFile));
        var routes = Path.Combine(_dir, "routes", "routes.yaml");

        await File.WriteAllTextAsync(routes, "routes:\n  - name: x/y\n    senders: [example.com]\n    relay: {host: h, tls: None, credential: shop.ses}\n");
        await relay.WaitUntilAsync(() => relay.Log.Contains("rejected routing table", StringComparison.Ordinal), "the rejection");

        Assert.Contains("never sent over an unencrypted connection", relay.Log);
        var metrics = await relay.MetricsAsync();
        Assert.Contains("mailrelay_config_last_reload_failed 1", metrics);
        Assert.Contains("mailrelay_routes 5", metrics);
        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "x@spammy.example", ["y@example.net"]);
        Assert.NotEqual(0, code);
        Assert.Contains("550 5.7.1 spammy.example may not send", transcript); // the old table still decides
        Assert.Equal(200, (await relay.GetAsync("/readyz")).Status);
    }

    [Fact]
    public async Task SIGTERM_with_an_idle_client_connected_stops_the_relay_promptly_and_keeps_the_queue()
    {
        var ca = new TestCertificates(_dir, "ca");
        var relay = Keep(await StartRelayAsync(NoUpstream(), ca.CaFile, retryMin: "30s"));
        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["bob@gmail.test"])).ExitCode);
        using var idle = new System.Net.Sockets.TcpClient();
        await idle.ConnectAsync("127.0.0.1", relay.SmtpPort);
        _ = await idle.GetStream().ReadAsync(new byte[512]); // the greeting; the client then stays silent

        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(relay.Stop(TimeSpan.FromSeconds(10)), "relay did not exit on SIGTERM:\n" + relay.Log);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), watch.Elapsed.ToString());
        Assert.Single(Directory.GetFiles(Path.Combine(_dir, "spool", "queue"), "*.json"));
    }

    [Fact]
    public async Task Port_465_means_TLS_from_connect_with_the_credential()
    {
        var ca = new TestCertificates(_dir, "ca");
        var upstream = Keep(await UpstreamRelay.StartAsync(RelayWorld.UpstreamIp, ca.Issue("up", [RelayWorld.UpstreamIp], []), RelayWorld.User, RelayWorld.Password, fixedPort: 465, implicitTls: true));
        var relay = Keep(await StartRelayAsync(465, ca.CaFile));

        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["bob@gmail.test"])).ExitCode);

        await relay.WaitUntilAsync(() => upstream.Messages().Count == 1, "delivery over implicit TLS");
        Assert.Equal(RelayWorld.User, upstream.Messages()[0].Envelope.GetProperty("login").GetString());
    }

    [Fact]
    public async Task A_5xx_from_the_next_hop_fails_the_recipient_permanently_and_empties_the_queue()
    {
        var sink = Keep(await SmtpSink.StartAsync(RelayWorld.SinkIp, "-f", "rcpt"));
        // The sender's domain has the same refusing MX: its bounce fails too, and a bounce is never bounced.
        var dns = Keep(await Dnsmasq.StartAsync([("example.net", "mx.example.net", 10), ("other.test", "mx.example.net", 10)], [("mx.example.net", RelayWorld.SinkIp)]));
        var ca = new TestCertificates(_dir, "ca");
        var relay = Keep(await StartRelayAsync(NoUpstream(), ca.CaFile, extra: ["--dns-server", dns.Endpoint, "--direct-port", RelayProcess.Arg(sink.Port)]));

        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "someone@other.test", ["gone@example.net"])).ExitCode);

        await relay.WaitUntilAsync(() => relay.Log.Contains("failed permanently", StringComparison.Ordinal), "the permanent failure");
        Assert.Matches(@"to <gone@example\.net> failed permanently: .*5\d\d", relay.Log);
        await relay.WaitUntilAsync(() => relay.Log.Contains("No bounce for", StringComparison.Ordinal), "the bounce failing in turn");
        Assert.Contains("mailrelay_queue_depth 0", await relay.MetricsAsync());
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "spool", "queue")));
    }

    [Fact]
    public async Task A_valid_new_routing_table_and_rotated_credentials_take_effect_without_a_restart()
    {
        var ca = new TestCertificates(_dir, "ca");
        var upstream = Keep(await UpstreamRelay.StartAsync(RelayWorld.UpstreamIp, ca.Issue("up", [RelayWorld.UpstreamIp], []), "rotated-user", "rotated-password"));
        var relay = Keep(await StartRelayAsync(upstream.Port, ca.CaFile));
        var routes = Path.Combine(_dir, "routes", "routes.yaml");

        // The new table sends other.test through the relay too; the Secret is rotated like the kubelet does it.
        await File.WriteAllTextAsync(routes, RelayWorld.Routes(upstream.Port).Replace("senders: [example.com, \"*.example.com\"]", "senders: [example.com, \"*.example.com\", other.test]", StringComparison.Ordinal));
        RelayWorld.WriteCredentials(Path.Combine(_dir, "credentials"), "shop.ses", "rotated-user", "rotated-password");
        await relay.WaitUntilAsync(() => relay.Log.Split('\n').Count(l => l.Contains("Loaded routing table", StringComparison.Ordinal)) >= 2, "the reload");
        await Task.Delay(500); // both files: the watcher may have caught the routes before the credentials

        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "someone@other.test", ["bob@gmail.test"])).ExitCode);

        await relay.WaitUntilAsync(() => upstream.Messages().Count == 1, "delivery with the new table and credentials");
        Assert.Equal("rotated-user", upstream.Messages()[0].Envelope.GetProperty("login").GetString());
        Assert.DoesNotContain("rotated-password", relay.Log);
    }

    [Fact]
    public async Task With_default_action_reject_a_sender_without_a_route_is_refused_at_RCPT()
    {
        var ca = new TestCertificates(_dir, "ca");
        var relay = Keep(await StartRelayAsync(NoUpstream(), ca.CaFile, extra: ["--default-action", "reject"]));
        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "nobody@unrouted.test", ["bob@gmail.test"]);
        Assert.NotEqual(0, code);
        Assert.Contains("550 5.7.1 sender not allowed to relay: no mail route matches", transcript);
        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["bob@gmail.test"], "--quit-after", "RCPT")).ExitCode);
    }

    public void Dispose() => _peers.Dispose();

    private T Keep<T>(T peer)
        where T : IDisposable => _peers.Keep(peer);

    /// <summary>An upstream port held for the test where nothing listens: attempts there are refused.</summary>
    private int NoUpstream() => Keep(new PortReservation(RelayWorld.UpstreamIp)).Port;

    private async Task<RelayProcess> StartRelayAsync(int upstreamPort, string caFile, string retryMin = "1s", string[]? extra = null)
    {
        var routes = Path.Combine(_dir, "routes", "routes.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(routes)!);
        await File.WriteAllTextAsync(routes, RelayWorld.Routes(upstreamPort));
        RelayWorld.WriteCredentials(Path.Combine(_dir, "credentials"), "shop.ses", RelayWorld.User, RelayWorld.Password);
        return await RelayProcess.StartAsync(
        [
            "--routes", routes, "--credentials", Path.Combine(_dir, "credentials"), "--spool", Path.Combine(_dir, "spool"),
            "--trust-ca", caFile, "--retry-min", retryMin, "--retry-max", retryMin == "1s" ? "2s" : retryMin, "--reload-interval", "200ms", .. extra ?? [],
        ]);
    }
}
