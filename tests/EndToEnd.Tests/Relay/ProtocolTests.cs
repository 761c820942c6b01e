using System.Text.RegularExpressions;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Relay;

/// <summary>
/// The relay's SMTP server against RFC 5321/6531 as real clients and peers see it: the greeting,
/// empty messages, &lt;postmaster&gt;, syntax replies, SMTPUTF8 on receipt and on delivery, the
/// timeout inside DATA, and DATA streamed to disk rather than held in memory.
/// </summary>
public sealed class ProtocolTests : IDisposable
{
    private const string SenderMxIp = "127.0.0.4";
    private readonly string _dir = TestPaths.TempDir("protocol");
    private readonly PeerSet _peers = new();

    private string Queue => Path.Combine(_dir, "spool", "queue");

    [Fact]
    public async Task The_greeting_names_the_host_and_no_software_or_version()
    {
        var (relay, _, _, _) = await StartAsync();
        var (client, greeting) = await RawSmtp.OpenAsync(relay.SmtpPort);
        using (client)
        {
            Assert.Equal("220 relay.test ESMTP", greeting.TrimEnd());
            var ehlo = await client.CommandAsync("EHLO client.test", "250");
            Assert.DoesNotMatch(@"\d+\.\d+\.\d+", ehlo);
        }
    }

    [Fact]
    public async Task An_empty_message_ends_at_the_first_dot_and_is_delivered()
    {
        var (relay, sink, _, _) = await StartAsync();
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");
        await client.BeginMessageAsync("someone@other.test", "bob@example.net");
        await client.SendAsync(".\r\n");
        Assert.StartsWith("250 2.0.0 Ok: queued as", await client.ReplyAsync());

        // smtp-sink writes its dump as the message arrives: wait for the end of the Received header.
        var dump = await Eventually.UntilAsync("the empty message at the MX", () => sink.Messages(), m => m.Count == 1 && Regex.IsMatch(m[0], @"\+0000\r?\n"), context: () => relay.Log);
        Assert.Contains("Received: from client.test", dump[0]);
        Assert.DoesNotContain("Subject", dump[0]);
    }

    [Fact]
    public async Task Postmaster_without_a_domain_is_a_recipient_and_means_the_relays_own()
    {
        var (relay, _, _, _) = await StartAsync();
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");
        await client.CommandAsync("MAIL FROM:<someone@other.test>", "250");
        await client.CommandAsync("RCPT TO:<Postmaster>", "250 2.1.5");
        await client.CommandAsync("DATA", "354");
        await client.SendAsync("Subject: to the postmaster\r\n\r\nhello\r\n.\r\n");
        Assert.StartsWith("250", await client.ReplyAsync());
        await relay.WaitUntilAsync(() => relay.Log.Contains("for postmaster@relay.test", StringComparison.Ordinal), "the message queued for the relay's postmaster");
    }

    [Theory]
    [InlineData("MAIL FROM:<a@@example.com>", "501 5.1.7")]
    [InlineData("MAIL FROM:<a@exa mple.com>", "501 5.1.7")]
    [InlineData("MAIL FROM:a@example.com>", "501 5.1.7")]
    [InlineData("MAIL FROM:<jörg@example.com>", "553 5.6.7")]
    [InlineData("MAIL FROM:<a@example.com> XFOO=1", "555 5.5.4")]
    [InlineData("MAIL TO:<a@example.com>", "501 5.5.4")]
    [InlineData("HELO", "501 5.5.4")]
    [InlineData("XYZZY", "500 5.5.2")]
    [InlineData("BDAT 10 LAST", "502 5.5.1")]
    public async Task Bad_commands_get_the_reply_for_their_fault_and_the_session_goes_on(string command, string reply)
    {
        var (relay, _, _, _) = await StartAsync();
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");
        await client.CommandAsync(command, reply);
        await client.CommandAsync("NOOP", "250");
    }

    [Fact]
    public async Task A_UTF8_address_goes_out_with_SMTPUTF8_to_a_next_hop_that_offers_it()
    {
        var (relay, _, upstream, _) = await StartAsync();
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");
        await client.CommandAsync("MAIL FROM:<jörg@utf8.example> SMTPUTF8", "250");
        await client.CommandAsync("RCPT TO:<björn@example.net>", "250");
        await client.CommandAsync("DATA", "354");
        await client.SendAsync("Subject: Grüße\r\nFrom: Jörg <jörg@utf8.example>\r\n\r\nhallo\r\n.\r\n");
        Assert.StartsWith("250", await client.ReplyAsync());

        var messages = await Eventually.UntilAsync("the message at the SMTPUTF8 upstream", () => upstream.Messages(), m => m.Count == 1, context: () => relay.Log);
        var envelope = messages[0].Envelope;
        Assert.Equal("jörg@utf8.example", envelope.GetProperty("mail_from").GetString());
        Assert.Equal(["björn@example.net"], envelope.GetProperty("rcpt_tos").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("SMTPUTF8", envelope.GetProperty("mail_options").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("Subject: Grüße", System.Text.Encoding.UTF8.GetString(messages[0].Data));
    }

    [Fact]
    public async Task A_UTF8_address_bounces_when_the_next_hop_does_not_offer_SMTPUTF8()
    {
        var (relay, sink, _, senderMx) = await StartAsync();
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");
        await client.CommandAsync("MAIL FROM:<someone@other.test> SMTPUTF8", "250");
        await client.CommandAsync("RCPT TO:<björn@example.net>", "250");
        await client.CommandAsync("DATA", "354");
        await client.SendAsync("Subject: needs utf8\r\n\r\nhallo\r\n.\r\n");
        Assert.StartsWith("250", await client.ReplyAsync());

        // smtp-sink offers no SMTPUTF8: nothing is sent to it raw, the sender gets a 5.6.7 bounce.
        var bounce = await Eventually.UntilAsync("the bounce at the sender's MX", () => senderMx.Messages(),
            m => m.Count == 1 && Regex.IsMatch(m[0], @"\n--\S+--\s*$"), context: () => relay.Log);
        Assert.Contains("X-Mail-Args: <>", bounce[0]);
        Assert.Contains("Status: 5.6.7", bounce[0]);
        Assert.Empty(sink.Messages());
    }

    [Fact]
    public async Task A_client_silent_inside_DATA_is_told_421_and_nothing_is_left_in_the_queue()
    {
        var (relay, _, _, _) = await StartAsync("--idle-timeout", "2s");
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");
        await client.BeginMessageAsync("someone@other.test", "bob@example.net");
        await client.SendAsync("Subject: and then nothing\r\n\r\nhal");

        Assert.StartsWith("421 4.4.2", await client.ReplyAsync());
        await relay.WaitUntilAsync(() => Directory.GetFiles(Queue).Length == 0, "the partial message removed");
        Assert.DoesNotContain("Queued", relay.Log);
    }

    [Fact]
    public async Task DATA_is_written_to_the_spool_as_it_arrives_and_a_message_cut_off_leaves_nothing()
    {
        var (relay, _, _, _) = await StartAsync();
        var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");
        await client.BeginMessageAsync("someone@other.test", "bob@example.net");
        var line = new string('x', 998) + "\r\n";
        await client.SendAsync("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(line, 6000))); // 6 MB, no end yet

        // Before the end of DATA, the message is on disk already (not in memory until the dot).
        var written = await Eventually.UntilAsync("the message's bytes in the spool before its end", () => Directory.GetFiles(Queue, "*.eml").Sum(f => new FileInfo(f).Length),
            size => size >= 5_000_000, context: () => relay.Log);
        Assert.True(written >= 5_000_000);
        Assert.Empty(Directory.GetFiles(Queue, "*.json")); // not queued: no envelope until it is whole

        client.Dispose(); // the client goes away mid-DATA
        await relay.WaitUntilAsync(() => Directory.GetFiles(Queue).Length == 0, "the cut-off message removed");
        Assert.DoesNotContain("Queued", relay.Log);
    }

    [Fact]
    public async Task A_command_sent_a_byte_at_a_time_does_not_keep_the_session_past_the_idle_timeout()
    {
        var (relay, _, _, _) = await StartAsync("--idle-timeout", "3s");
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        var slow = Task.Run(async () =>
        {
            foreach (var c in "NOOP NOOP NOOP NOOP NOOP NOOP\r\n")
            {
                await client.SendAsync(c.ToString());
                await Task.Delay(500); // each byte well inside the idle timeout
            }
        });

        Assert.StartsWith("421 4.4.2", await client.ReplyAsync()); // the line was not whole within 3 s
        await relay.WaitUntilAsync(() => relay.Log.Contains("too slow", StringComparison.Ordinal), "the slow client logged");
        await Assert.ThrowsAnyAsync<Exception>(() => slow);
    }

    [Fact]
    public async Task A_client_that_does_not_read_its_replies_is_closed_after_the_idle_timeout()
    {
        var (relay, _, _, _) = await StartAsync("--idle-timeout", "2s");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = 1024 };
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, relay.SmtpPort);
        var commands = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("HELP\r\n", 1000)));
        using var sending = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var sent = Task.Run(async () =>
        {
            while (!sending.IsCancellationRequested)
            {
                await socket.SendAsync(commands, System.Net.Sockets.SocketFlags.None, sending.Token); // never reads a reply
            }
        });

        await relay.WaitUntilAsync(() => relay.Log.Contains("has not read its replies", StringComparison.Ordinal), "the relay closing the connection", TimeSpan.FromSeconds(25));
        await Assert.ThrowsAnyAsync<Exception>(() => sent); // the relay closed it: sending fails
    }

    public void Dispose() => _peers.Dispose();

    private async Task<(RelayProcess Relay, SmtpSink Mx, UpstreamRelay Upstream, SmtpSink SenderMx)> StartAsync(params string[] extra)
    {
        var ca = new TestCertificates(_dir, "ca");
        var upstream = _peers.Keep(await UpstreamRelay.StartAsync(RelayWorld.UpstreamIp, ca.Issue("upstream", [RelayWorld.UpstreamIp], ["upstream.test"]), RelayWorld.User, RelayWorld.Password, smtpUtf8: true));
        var senderMx = _peers.Keep(await SmtpSink.StartAsync(SenderMxIp));
        var mx = _peers.Keep(await SmtpSink.StartAsync(RelayWorld.SinkIp, senderMx.Port));
        var dns = _peers.Keep(await Dnsmasq.StartAsync(
            [("example.net", "mx.example.net", 10), ("other.test", "mx.other.test", 10)],
            [("mx.example.net", RelayWorld.SinkIp), ("mx.other.test", SenderMxIp)]));
        var routes = Path.Combine(_dir, "routes", "routes.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(routes)!);
        await File.WriteAllTextAsync(routes, $$"""
            apiVersion: mailrelay.io/v1alpha1
            kind: RoutingTable
            routes:
              - name: shop/utf8-via-upstream
                created: "2026-11-01T09:00:00Z"
                senders: [utf8.example]
                relay: {host: "{{RelayWorld.UpstreamIp}}", port: {{upstream.Port}}, tls: Verify, credential: shop.ses}
            """);
        RelayWorld.WriteCredentials(Path.Combine(_dir, "credentials"), "shop.ses", RelayWorld.User, RelayWorld.Password);
        var relay = _peers.Keep(await RelayProcess.StartAsync(
        [
            "--routes", routes, "--credentials", Path.Combine(_dir, "credentials"), "--spool", Path.Combine(_dir, "spool"),
            "--allowed-networks", "127.0.0.0/8", "--dns-server", dns.Endpoint, "--direct-port", RelayProcess.Arg(mx.Port),
            "--trust-ca", ca.CaFile, "--retry-min", "1s", "--retry-max", "2s", .. extra,
        ]));
        return (relay, mx, upstream, senderMx);
    }
}
