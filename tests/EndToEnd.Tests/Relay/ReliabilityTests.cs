using System.Globalization;
using System.Text.RegularExpressions;
using MailKit.Net.Smtp;
using MailRelay.EndToEnd.Tests.Peers;
using MimeKit;

namespace MailRelay.EndToEnd.Tests.Relay;

/// <summary>"A 250 means the mail will be delivered or bounced, never lost", and no message stops the others.</summary>
public sealed class ReliabilityTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir("reliability");
    private readonly PeerSet _peers = new();

    [Fact]
    public async Task Mail_acknowledged_while_a_large_backlog_is_loaded_at_start_keeps_its_message_file()
    {
        var ca = new TestCertificates(_dir, "ca");
        WriteBacklog(Path.Combine(_dir, "spool", "queue"), 30_000);
        // Default reject: the backlog's bounces (from <>, matching no route) are refused, not sent out.
        var relay = RelayProcess.Create([.. RelayArgs(NoUpstream(), ca.CaFile, "30s"), "--default-action", "reject"]);
        Keep(relay);

        // Connect as soon as the listener is up, while the start-up scan of the backlog may still run.
        var started = relay.StartAgainAsync();
        await Eventually.TrueAsync("the SMTP port", () => relay.SmtpPort > 0 || started.IsCompleted, TimeSpan.FromSeconds(60), () => relay.Log);
        var acknowledged = new List<string>();
        var streams = Enumerable.Range(0, 2).Select(_ => StreamAsync(relay.SmtpPort, TimeSpan.FromSeconds(6))).ToList();
        foreach (var ids in await Task.WhenAll(streams))
        {
            acknowledged.AddRange(ids);
        }

        await started;
        Assert.True(acknowledged.Count > 0, "no message acknowledged");
        Assert.True(relay.Stop(TimeSpan.FromSeconds(20)), relay.Log);
        var queue = Path.Combine(_dir, "spool", "queue");
        var lost = acknowledged.Where(id => !File.Exists(Path.Combine(queue, id + ".eml")) || !File.Exists(Path.Combine(queue, id + ".json"))).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged messages lost a file: {string.Join(", ", lost.Take(5))}");
    }

    [Fact]
    public async Task Greylisting_every_recipient_with_4xx_defers_the_message_and_keeps_it_queued()
    {
        var sink = Keep(await SmtpSink.StartAsync(RelayWorld.SinkIp, "-r", "rcpt"));
        var dns = Keep(await Dnsmasq.StartAsync([("example.net", "mx.example.net", 10)], [("mx.example.net", RelayWorld.SinkIp)]));
        var ca = new TestCertificates(_dir, "ca");
        var relay = Keep(await RelayProcess.StartAsync([.. RelayArgs(NoUpstream(), ca.CaFile, "1s"), "--dns-server", dns.Endpoint, "--direct-port", RelayProcess.Arg(sink.Port)]));

        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "someone@other.test", ["greylisted@example.net", "second@example.net"])).ExitCode);

        await relay.WaitUntilAsync(() => Regex.Matches(relay.Log, "2 deferred").Count >= 2, "two deferred attempts");
        Assert.DoesNotContain("failed permanently", relay.Log);
        Assert.Contains("mailrelay_queue_depth 1", await relay.MetricsAsync());
        Assert.Single(Directory.GetFiles(Path.Combine(_dir, "spool", "queue"), "*.json"));
    }

    [Fact]
    public async Task Greylisting_at_the_relay_route_defers_the_message_too()
    {
        var ca = new TestCertificates(_dir, "ca");
        var upstream = Keep(await UpstreamRelay.StartAsync(RelayWorld.UpstreamIp, ca.Issue("up", [RelayWorld.UpstreamIp], []), RelayWorld.User, RelayWorld.Password, greylist: true));
        var relay = Keep(await RelayProcess.StartAsync(RelayArgs(upstream.Port, ca.CaFile, "1s")));

        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["a@gmail.test", "b@gmail.test"])).ExitCode);

        await relay.WaitUntilAsync(() => Regex.Matches(relay.Log, "2 deferred").Count >= 2, "two deferred attempts");
        Assert.DoesNotContain("failed permanently", relay.Log);
        Assert.Contains("Greylisted", relay.Log);
        Assert.Contains("mailrelay_queue_depth 1", await relay.MetricsAsync());
    }

    [Fact]
    public async Task A_route_with_maxRecipients_splits_a_message_into_transactions_on_one_connection()
    {
        var ca = new TestCertificates(_dir, "ca");
        var upstream = Keep(await UpstreamRelay.StartAsync(RelayWorld.UpstreamIp, ca.Issue("up", [RelayWorld.UpstreamIp], []), RelayWorld.User, RelayWorld.Password));
        var args = RelayArgs(upstream.Port, ca.CaFile, "1s");
        var routes = Path.Combine(_dir, "routes", "routes.yaml");
        await File.WriteAllTextAsync(routes, (await File.ReadAllTextAsync(routes)).Replace("credential: shop.ses}", "credential: shop.ses, maxRecipients: 2}", StringComparison.Ordinal));
        var relay = Keep(await RelayProcess.StartAsync(args));
        string[] recipients = ["r1@gmail.test", "r2@gmail.test", "r3@gmail.test", "r4@gmail.test", "r5@gmail.test"];

        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", recipients, "--header", "Subject: split")).ExitCode);

        var messages = await Eventually.UntilAsync("three transactions at the upstream", () => upstream.Messages(), m => m.Count == 3, context: () => relay.Log);
        Assert.Equal([2, 2, 1], messages.Select(m => m.Envelope.GetProperty("rcpt_tos").GetArrayLength()));
        Assert.Equal(recipients, messages.SelectMany(m => m.Envelope.GetProperty("rcpt_tos").EnumerateArray().Select(r => r.GetString()!)).Order());
        Assert.Single(messages.Select(m => m.Envelope.GetProperty("session").GetInt64()).Distinct()); // one connection, one AUTH
        await relay.WaitUntilAsync(() => relay.Log.Contains("5 delivered", StringComparison.Ordinal), "one delivery with five recipients");
    }

    [Fact]
    public async Task A_recipient_that_delivery_cannot_parse_neither_stops_the_worker_nor_holds_up_other_mail()
    {
        var sink = Keep(await SmtpSink.StartAsync(RelayWorld.SinkIp));
        var dns = Keep(await Dnsmasq.StartAsync([("example.net", "mx.example.net", 10)], [("mx.example.net", RelayWorld.SinkIp)]));
        var ca = new TestCertificates(_dir, "ca");
        var relay = Keep(await RelayProcess.StartAsync(
            [.. RelayArgs(NoUpstream(), ca.CaFile, "1s"), "--dns-server", dns.Endpoint, "--direct-port", RelayProcess.Arg(sink.Port), "--delivery-concurrency", "1"]));

        for (var i = 0; i < 3; i++)
        {
            var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "someone@other.test", ["\"odd@local\"@example.net"], "--header", "Subject: odd-" + i);
            Assert.True(code == 0, transcript);
        }

        Assert.Equal(0, (await Swaks.SendAsync(relay.SmtpPort, "someone@other.test", ["bob@example.net"], "--header", "Subject: after-the-odd-ones")).ExitCode);

        await relay.WaitUntilAsync(() => sink.Messages().Any(m => m.Contains("after-the-odd-ones", StringComparison.Ordinal)), "the good message to arrive");
        await relay.WaitUntilAsync(() => sink.Messages().Count(m => m.Contains("<\"odd@local\"@example.net>", StringComparison.Ordinal)) == 3, "the odd ones, to the address as it was given");
        Assert.Equal(200, (await relay.GetAsync("/readyz")).Status);
    }

    [Fact]
    public async Task A_queued_message_whose_file_vanished_is_quarantined_not_retried_forever()
    {
        var ca = new TestCertificates(_dir, "ca");
        var relay = Keep(await RelayProcess.StartAsync(RelayArgs(NoUpstream(), ca.CaFile, "1s")));
        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "orders@example.com", ["bob@gmail.test"]);
        Assert.True(code == 0, transcript);
        var id = Regex.Match(transcript, "queued as ([0-9A-F]+)").Groups[1].Value;
        await relay.WaitUntilAsync(() => relay.Log.Contains("1 deferred", StringComparison.Ordinal), "the first attempt");

        File.Delete(Path.Combine(_dir, "spool", "queue", id + ".eml"));

        await relay.WaitUntilAsync(() => File.Exists(Path.Combine(_dir, "spool", "quarantine", id + ".json")), "the entry in the quarantine");
        Assert.Contains("its message file is missing", await File.ReadAllTextAsync(Path.Combine(_dir, "spool", "quarantine", id + ".reason")));
        var metrics = await relay.MetricsAsync();
        Assert.Contains("mailrelay_quarantined_total 1", metrics);
        Assert.Contains("mailrelay_queue_depth 0", metrics);
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "spool", "queue")));
    }

    [Fact]
    public async Task SIGTERM_in_the_middle_of_DATA_lets_the_client_finish_and_acknowledges_the_message()
    {
        var ca = new TestCertificates(_dir, "ca");
        var relay = Keep(await RelayProcess.StartAsync(RelayArgs(NoUpstream(), ca.CaFile, "30s")));
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");
        await client.BeginMessageAsync("orders@example.com", "bob@gmail.test");
        await client.SendAsync("Subject: cut by a roll\r\n\r\nfirst half\r\n");

        var stopped = Task.Run(() => relay.Stop(TimeSpan.FromSeconds(20)));
        await Eventually.TrueAsync("the relay to log its shutdown", () => relay.Log.Contains("stopped accepting", StringComparison.Ordinal), context: () => relay.Log);
        await client.SendAsync("second half\r\n.\r\n");
        var reply = await client.ReplyAsync();

        Assert.StartsWith("250", reply);
        Assert.True(await stopped, "relay did not exit on SIGTERM:\n" + relay.Log);
        var id = Regex.Match(reply, "queued as ([0-9A-F]+)").Groups[1].Value;
        Assert.Contains("second half", await File.ReadAllTextAsync(Path.Combine(_dir, "spool", "queue", id + ".eml")));
    }

    [Fact]
    public async Task SIGTERM_tells_an_idle_client_421_before_closing()
    {
        var ca = new TestCertificates(_dir, "ca");
        var relay = Keep(await RelayProcess.StartAsync(RelayArgs(NoUpstream(), ca.CaFile, "30s")));
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");

        Assert.True(relay.Stop(TimeSpan.FromSeconds(20)), "relay did not exit on SIGTERM:\n" + relay.Log);
        Assert.StartsWith("421 4.3.2", await client.ReplyAsync());
    }

    [Fact]
    public async Task The_session_limit_is_an_idle_timeout_a_busy_client_is_never_cut()
    {
        var ca = new TestCertificates(_dir, "ca");
        var relay = Keep(await RelayProcess.StartAsync([.. RelayArgs(NoUpstream(), ca.CaFile, "30s"), "--idle-timeout", "2s"]));
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");

        var busy = System.Diagnostics.Stopwatch.StartNew();
        while (busy.Elapsed < TimeSpan.FromSeconds(5))
        {
            await client.CommandAsync("NOOP", "250");
            await Task.Delay(500);
        }

        var silent = System.Diagnostics.Stopwatch.StartNew();
        Assert.StartsWith("421 4.4.2", await client.ReplyAsync());
        Assert.InRange(silent.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Kill_9_under_load_with_a_backlog_loses_no_acknowledged_message()
    {
        var ca = new TestCertificates(_dir, "ca");
        var upstream = Keep(await UpstreamRelay.StartAsync(RelayWorld.UpstreamIp, ca.Issue("up", [RelayWorld.UpstreamIp], []), RelayWorld.User, RelayWorld.Password));
        var acknowledged = new List<string>();
        for (var i = 0; i < 1000; i++)
        {
            acknowledged.Add("backlog-" + i.ToString(CultureInfo.InvariantCulture));
        }

        WriteBacklog(Path.Combine(_dir, "spool", "queue"), acknowledged, "orders@example.com", "bob@gmail.test");
        var relay = Keep(RelayProcess.Create(RelayArgs(upstream.Port, ca.CaFile, "1s")));

        await relay.StartAgainAsync();
        acknowledged.AddRange(await StreamTaggedAsync(relay.SmtpPort, "first-run", TimeSpan.FromSeconds(3)));
        relay.Kill(); // kill -9: no drain, no flush

        var restarted = relay.StartAgainAsync();
        await restarted;
        acknowledged.AddRange(await StreamTaggedAsync(relay.SmtpPort, "second-run", TimeSpan.FromSeconds(2)));

        var delivered = await Eventually.UntilAsync("every acknowledged message at the upstream",
            () => upstream.Messages().Select(m => Regex.Match(System.Text.Encoding.UTF8.GetString(m.Data), "Subject: (\\S+)").Groups[1].Value).ToList(),
            subjects => acknowledged.All(new HashSet<string>(subjects).Contains), TimeSpan.FromSeconds(120), () => relay.Log[^Math.Min(3000, relay.Log.Length)..]);
        var duplicates = delivered.Count - delivered.Distinct().Count();
        Assert.True(duplicates <= 50, $"{duplicates} duplicates of {acknowledged.Count} messages"); // at least once: only what was in flight at the kill
        Assert.Contains("mailrelay_queue_depth 0", await relay.MetricsAsync());
    }

    public void Dispose() => _peers.Dispose();

    private static async Task<List<string>> StreamTaggedAsync(int port, string tag, TimeSpan duration)
    {
        var sent = new List<string>();
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var n = 0; watch.Elapsed < duration; n++)
        {
            var subject = $"{tag}-{n.ToString(CultureInfo.InvariantCulture)}";
            using var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse("orders@example.com"));
            message.To.Add(MailboxAddress.Parse("bob@gmail.test"));
            message.Subject = subject;
            message.Body = new TextPart("plain") { Text = "load" };
            await client.SendAsync(message);
            sent.Add(subject);
        }

        await client.DisconnectAsync(true);
        return sent;
    }

    private static async Task<List<string>> StreamAsync(int port, TimeSpan duration)
    {
        var ids = new List<string>();
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var n = 0; watch.Elapsed < duration; n++)
        {
            using var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse("orders@example.com"));
            message.To.Add(MailboxAddress.Parse("bob@gmail.test"));
            message.Subject = "during start " + n.ToString(CultureInfo.InvariantCulture);
            message.Body = new TextPart("plain") { Text = "hello" };
            var reply = await client.SendAsync(message);
            ids.Add(Regex.Match(reply, "queued as ([0-9A-F]+)").Groups[1].Value);
        }

        await client.DisconnectAsync(true);
        return ids;
    }

    /// <summary>Queued messages, one per subject, as the spool writes them.</summary>
    private static void WriteBacklog(string queue, IReadOnlyList<string> subjects, string sender, string recipient)
    {
        Directory.CreateDirectory(queue);
        var at = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O", CultureInfo.InvariantCulture);
        for (var i = 0; i < subjects.Count; i++)
        {
            var id = i.ToString("X20", CultureInfo.InvariantCulture);
            File.WriteAllText(Path.Combine(queue, id + ".eml"), $"From: <{sender}>\r\nTo: <{recipient}>\r\nSubject: {subjects[i]}\r\n\r\nqueued before the start\r\n");
            File.WriteAllText(Path.Combine(queue, id + ".json"),
                $$"""{"Id":"{{id}}","ReceivedAt":"{{at}}","Sender":"{{sender}}","Recipients":[{"Address":"{{recipient}}","State":"Pending"}],"Attempts":0,"NextAttemptAt":"{{at}}"}""");
        }
    }

    /// <summary>Queued messages of a sender the table rejects: each attempt only removes them.</summary>
    private static void WriteBacklog(string queue, int count)
    {
        Directory.CreateDirectory(queue);
        var at = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O", CultureInfo.InvariantCulture);
        for (var i = 0; i < count; i++)
        {
            var id = i.ToString("X20", CultureInfo.InvariantCulture); // sorts before every new, time-ordered id
            File.WriteAllText(Path.Combine(queue, id + ".eml"), "Subject: backlog\r\n\r\nold\r\n");
            File.WriteAllText(Path.Combine(queue, id + ".json"),
                $$"""{"Id":"{{id}}","ReceivedAt":"{{at}}","Sender":"x@spammy.example","Recipients":[{"Address":"y@example.net","State":"Pending"}],"Attempts":0,"NextAttemptAt":"{{at}}"}""");
        }
    }

    private string[] RelayArgs(int upstreamPort, string caFile, string retryMin)
    {
        var routes = Path.Combine(_dir, "routes", "routes.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(routes)!);
        File.WriteAllText(routes, RelayWorld.Routes(upstreamPort));
        RelayWorld.WriteCredentials(Path.Combine(_dir, "credentials"), "shop.ses", RelayWorld.User, RelayWorld.Password);
        return
        [
            "--routes", routes, "--credentials", Path.Combine(_dir, "credentials"), "--spool", Path.Combine(_dir, "spool"),
            "--trust-ca", caFile, "--retry-min", retryMin, "--retry-max", retryMin, "--reload-interval", "200ms",
        ];
    }

    private int NoUpstream() => Keep(new PortReservation(RelayWorld.UpstreamIp)).Port;

    private T Keep<T>(T peer)
        where T : IDisposable => _peers.Keep(peer);
}
