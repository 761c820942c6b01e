using System.Diagnostics;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Relay;

/// <summary>Client STARTTLS + AUTH, MX selection details, and the explain command, against the real relay.</summary>
public sealed class ClientAndDirectTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir("client-direct");
    private readonly PeerSet _peers = new();

    [Fact]
    public async Task AUTH_is_offered_only_after_STARTTLS_and_lets_an_outside_client_relay()
    {
        var (relay, sink) = await StartWithTlsAndUsersAsync();

        var plain = await Swaks.SendAsync(relay.SmtpPort, "a@other.test", ["b@example.net"], "--quit-after", "EHLO");
        Assert.Contains("250-STARTTLS", plain.Transcript);
        Assert.DoesNotContain("AUTH", plain.Transcript);

        var denied = await Swaks.SendAsync(relay.SmtpPort, "a@other.test", ["b@example.net"], "--local-interface", "127.0.0.9", "--tls");
        Assert.Contains("554 5.7.1 relay access denied", denied.Transcript);

        var wrong = await Swaks.SendAsync(relay.SmtpPort, "a@other.test", ["b@example.net"], "--local-interface", "127.0.0.9", "--tls",
            "--auth", "PLAIN", "--auth-user", "app1", "--auth-password", "wrong");
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(wrong.Transcript, @"<~?\* +535"), wrong.Transcript);

        var ok = await Swaks.SendAsync(relay.SmtpPort, "a@other.test", ["b@example.net"], "--local-interface", "127.0.0.9", "--tls",
            "--auth", "PLAIN", "--auth-user", "app1", "--auth-password", "app1-Secret", "--header", "Subject: authenticated-client");
        Assert.True(ok.ExitCode == 0, ok.Transcript);
        Assert.Matches(@"<~ +250[- ]AUTH PLAIN LOGIN", ok.Transcript); // offered inside TLS only
        await relay.WaitUntilAsync(() => sink.Messages().Any(m => m.Contains("authenticated-client", StringComparison.Ordinal)), "delivery");
        var dump = sink.Messages().First(m => m.Contains("authenticated-client", StringComparison.Ordinal));
        Assert.Contains("with ESMTPSA id", dump);
        Assert.DoesNotContain("app1-Secret", relay.Log);
    }

    [Fact]
    public async Task Failed_AUTH_is_logged_without_the_password_and_slowed_per_client()
    {
        var (relay, sink) = await StartWithTlsAndUsersAsync();

        var elapsed = new List<TimeSpan>();
        for (var i = 0; i < 3; i++)
        {
            var watch = Stopwatch.StartNew();
            var wrong = await Swaks.SendAsync(relay.SmtpPort, "a@other.test", ["b@example.net"], "--local-interface", "127.0.0.9", "--tls",
                "--auth", "PLAIN", "--auth-user", "app1", "--auth-password", "guess-number-" + i);
            elapsed.Add(watch.Elapsed);
            Assert.NotEqual(0, wrong.ExitCode);
        }

        Assert.True(elapsed[2] >= TimeSpan.FromSeconds(2), string.Join(", ", elapsed)); // the third failure is answered 2 s late
        Assert.Contains("SMTP AUTH failed for user app1 from 127.0.0.9 (3 failure(s)", relay.Log);
        Assert.DoesNotContain("guess-number", relay.Log);
        Assert.Contains("mailrelay_auth_failures_total 3", await relay.MetricsAsync());

        // Another client is not slowed by the first one's failures.
        var other = Stopwatch.StartNew();
        var ok = await Swaks.SendAsync(relay.SmtpPort, "a@other.test", ["b@example.net"], "--local-interface", "127.0.0.10", "--tls",
            "--auth", "PLAIN", "--auth-user", "app1", "--auth-password", "wrong");
        Assert.True(other.Elapsed < elapsed[2], $"{other.Elapsed} vs {elapsed[2]}");
        Assert.NotEqual(0, ok.ExitCode);
    }

    [Fact]
    public async Task Direct_delivery_follows_MX_preference_falls_back_to_A_and_fails_permanently_on_a_null_MX()
    {
        var sink = Keep(await SmtpSink.StartAsync(RelayWorld.SinkIp));
        var dns = Keep(await Dnsmasq.StartAsync(
            [("pref.example", "down.example.net", 5), ("pref.example", "mx.example.net", 10), ("nullmx.example", ".", 0)],
            [("mx.example.net", RelayWorld.SinkIp), ("down.example.net", "127.0.0.4"), ("amx.example", RelayWorld.SinkIp)]));
        var relay = Keep(await StartRelayAsync(dns, sink));

        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "a@other.test", ["x@pref.example", "y@amx.example", "z@nullmx.example"], "--header", "Subject: mx-rules");
        Assert.True(code == 0, transcript);

        await relay.WaitUntilAsync(
            () => sink.Messages().Count(m => m.Contains("mx-rules", StringComparison.Ordinal)) == 2 && relay.Log.Contains("failed permanently", StringComparison.Ordinal),
            "two deliveries and one permanent failure");
        var dumps = sink.Messages().Where(m => m.Contains("mx-rules", StringComparison.Ordinal)).ToList();
        Assert.Contains(dumps, d => d.Contains("X-Rcpt-Args: <x@pref.example>", StringComparison.Ordinal));
        Assert.Contains(dumps, d => d.Contains("X-Rcpt-Args: <y@amx.example>", StringComparison.Ordinal));
        Assert.DoesNotContain(dumps, d => d.Contains("z@nullmx.example>", StringComparison.Ordinal) && d.Contains("X-Rcpt-Args: <z@", StringComparison.Ordinal));
        Assert.Contains("down.example.net[127.0.0.4]", relay.Log); // tried first (preference 5), then the next MX
        Assert.Contains("null MX", relay.Log);
    }

    [Fact]
    public async Task Explain_prints_the_route_the_deciding_rule_and_the_losers()
    {
        var routes = Path.Combine(_dir, "routes.yaml");
        await File.WriteAllTextAsync(routes, RelayWorld.Routes(2587));
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[TestPaths.RelayDll, "explain", "--routes", routes, "--from", "news@example.com", "--to", "dave@partner.example", "--to", "vip@example.net"])
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("route:     shop/example-com-via-ses", output);
        Assert.Contains("wins over ops/partner-direct by rule 2, more specific sender match (domain > '*')", output);
        Assert.Contains("route:     ops/vip-direct -> direct (MX)", output);
        Assert.Contains("deliveries: 2 (recipients split by route)", output);
    }

    public void Dispose() => _peers.Dispose();

    private T Keep<T>(T peer)
        where T : IDisposable => _peers.Keep(peer);

    /// <summary>A relay offering STARTTLS, and AUTH over it for one user (app1), delivering direct to a sink.</summary>
    private async Task<(RelayProcess Relay, SmtpSink Sink)> StartWithTlsAndUsersAsync()
    {
        var ca = new TestCertificates(_dir, "relay-ca");
        var (cert, key) = ca.Issue("relay", ["127.0.0.1"], ["relay.test"]);
        var users = Path.Combine(_dir, "users");
        await File.WriteAllTextAsync(users, "app1:app1-Secret\n");
        var sink = Keep(await SmtpSink.StartAsync(RelayWorld.SinkIp));
        var dns = Keep(await Dnsmasq.StartAsync([("example.net", "mx.example.net", 10)], [("mx.example.net", RelayWorld.SinkIp)]));
        return (Keep(await StartRelayAsync(dns, sink, "--tls-cert", cert, "--tls-key", key, "--users", users)), sink);
    }

    private async Task<RelayProcess> StartRelayAsync(Dnsmasq dns, SmtpSink sink, params string[] extra)
    {
        var routes = Path.Combine(_dir, "routes", "routes.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(routes)!);
        await File.WriteAllTextAsync(routes, "apiVersion: mailrelay.io/v1alpha1\nkind: RoutingTable\nroutes: []\n");
        return await RelayProcess.StartAsync(
            [
                "--routes", routes, "--credentials", Path.Combine(_dir, "credentials"), "--spool", Path.Combine(_dir, "spool"),
                "--allowed-networks", "127.0.0.1/32", "--dns-server", dns.Endpoint, "--direct-port", RelayProcess.Arg(sink.Port),
                "--retry-min", "1s", "--retry-max", "2s", .. extra,
            ]);
    }
}
