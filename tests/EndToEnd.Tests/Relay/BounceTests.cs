using System.Diagnostics;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Relay;

/// <summary>Permanent failures reach the sender as RFC 3464 delivery status notices, checked by Python's email parser.</summary>
public sealed class BounceTests : IDisposable
{
    private const string SenderMxIp = "127.0.0.4";
    private readonly string _dir = TestPaths.TempDir("bounce");
    private readonly PeerSet _peers = new();

    [Fact]
    public async Task A_5xx_from_the_next_hop_sends_the_sender_a_delivery_status_notice_from_the_null_sender()
    {
        var (relay, senderMx) = await StartAsync();

        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "someone@other.test", ["gone@example.net"], "--header", "Subject: will-bounce");
        Assert.True(code == 0, transcript);

        // smtp-sink writes its dump as the message arrives: wait for the report's closing boundary.
        var dump = await Eventually.UntilAsync("the whole bounce at the sender's MX", () => senderMx.Messages(),
            m => m.Count == 1 && System.Text.RegularExpressions.Regex.IsMatch(m[0], @"\n--\S+--\s*$"), context: () => relay.Log);
        var (envelope, message) = Split(dump[0]);
        Assert.Contains("X-Mail-Args: <>", envelope);
        Assert.Contains("X-Rcpt-Args: <someone@other.test>", envelope);

        var report = await ParseWithPythonAsync(message);
        Assert.Contains("content-type: multipart/report", report);
        Assert.Contains("report-type: delivery-status", report);
        Assert.Contains("final-recipient: rfc822; gone@example.net", report);
        Assert.Contains("action: failed", report);
        Assert.Matches(@"status: 5\.\d\.\d", report);
        Assert.Contains("diagnostic-code: smtp; 5", report);
        Assert.Contains("returned: text/rfc822-headers", report);
        Assert.Contains("Subject: will-bounce", report);
        Assert.Contains("mailrelay_bounces_total 1", await relay.MetricsAsync());
    }

    [Fact]
    public async Task Mail_from_the_null_sender_is_never_bounced()
    {
        var (relay, senderMx) = await StartAsync();

        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "<>", ["gone@example.net"], "--header", "Subject: no-bounce");
        Assert.True(code == 0, transcript);

        await relay.WaitUntilAsync(() => relay.Log.Contains("No bounce for", StringComparison.Ordinal), "the decision not to bounce");
        await Task.Delay(1000); // a bounce would be queued at once with the failure
        Assert.Empty(senderMx.Messages());
        Assert.Contains("mailrelay_bounces_total 0", await relay.MetricsAsync());
    }

    [Fact]
    public async Task Mail_still_pending_after_the_delay_warning_time_gets_one_delay_warning_and_stays_queued()
    {
        var (relay, senderMx) = await StartAsync("-r", "--delay-warning", "3s"); // every RCPT answered 4xx (greylisting)

        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "someone@other.test", ["slow@example.net"], "--header", "Subject: will-be-late");
        Assert.True(code == 0, transcript);

        var dump = await Eventually.UntilAsync("the delay warning at the sender's MX", () => senderMx.Messages(),
            m => m.Count == 1 && System.Text.RegularExpressions.Regex.IsMatch(m[0], @"\n--\S+--\s*$"), TimeSpan.FromSeconds(30), () => relay.Log);
        var (envelope, message) = Split(dump[0]);
        Assert.Contains("X-Mail-Args: <>", envelope);
        var report = await ParseWithPythonAsync(message);
        Assert.Contains("report-type: delivery-status", report);
        Assert.Contains("final-recipient: rfc822; slow@example.net", report);
        Assert.Contains("action: delayed", report);
        Assert.Matches(@"status: 4\.\d\.\d", report);
        Assert.Contains("will-retry-until:", report);
        Assert.Contains("Subject: will-be-late", report);

        // Once only, and the message is still being retried.
        var attempts = relay.Log.Split("Delivery of").Length;
        await relay.WaitUntilAsync(() => relay.Log.Split("Delivery of").Length >= attempts + 2, "two more attempts");
        Assert.Single(senderMx.Messages());
        Assert.Contains("mailrelay_delay_warnings_total 1", await relay.MetricsAsync());
        Assert.Contains("mailrelay_bounces_total 0", await relay.MetricsAsync());
    }

    public void Dispose() => _peers.Dispose();

    private async Task<(RelayProcess Relay, SmtpSink SenderMx)> StartAsync(string fault = "-f", params string[] extra)
    {
        var senderMx = _peers.Keep(await SmtpSink.StartAsync(SenderMxIp));
        var rejecting = _peers.Keep(await SmtpSink.StartAsync(RelayWorld.SinkIp, senderMx.Port, fault, "rcpt"));
        var dns = _peers.Keep(await Dnsmasq.StartAsync(
            [("example.net", "mx.example.net", 10), ("other.test", "mx.other.test", 10)],
            [("mx.example.net", RelayWorld.SinkIp), ("mx.other.test", SenderMxIp)]));
        var routes = Path.Combine(_dir, "routes", "routes.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(routes)!);
        await File.WriteAllTextAsync(routes, "apiVersion: mailrelay.io/v1alpha1\nkind: RoutingTable\nroutes: []\n");
        var relay = _peers.Keep(await RelayProcess.StartAsync(
        [
            "--routes", routes, "--credentials", Path.Combine(_dir, "credentials"), "--spool", Path.Combine(_dir, "spool"),
            "--dns-server", dns.Endpoint, "--direct-port", RelayProcess.Arg(rejecting.Port), "--retry-min", "1s", "--retry-max", "2s", .. extra,
        ]));
        return (relay, senderMx);
    }

    /// <summary>smtp-sink's dump: its X- envelope lines, then the message.</summary>
    private static (string Envelope, string Message) Split(string dump)
    {
        var lines = dump.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var envelope = lines.TakeWhile(l => l.StartsWith("X-", StringComparison.Ordinal)).ToList();
        return (string.Join('\n', envelope), string.Join("\r\n", lines.Skip(envelope.Count)));
    }

    /// <summary>The notice as Python's email package reads it: headers, the status fields, the returned part.</summary>
    private async Task<string> ParseWithPythonAsync(string message)
    {
        var file = Path.Combine(_dir, "notice.eml");
        await File.WriteAllTextAsync(file, message);
        const string script = """
            import email, sys
            from email import policy
            m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.compat32)
            print("content-type:", m.get_content_type())
            print("report-type:", m.get_param("report-type"))
            parts = m.get_payload()
            print("parts:", [p.get_content_type() for p in parts])
            status = parts[1]
            for block in status.get_payload():
                for k, v in block.items():
                    print(k.lower() + ":", v)
            print("returned:", parts[2].get_content_type())
            print(parts[2].get_payload() if not parts[2].is_multipart() else parts[2].get_payload(0))
            """;
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(file);
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, error);
        return output;
    }
}
