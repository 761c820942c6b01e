using System.Text;
using System.Text.RegularExpressions;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Relay;

/// <summary>Mail sent with swaks to the real relay takes the route the routing table asks for, to real peers.</summary>
public sealed class RoutingEndToEndTests(RelayWorld world) : IClassFixture<RelayWorld>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Mail_from_example_com_arrives_at_the_upstream_over_TLS_authenticated_byte_for_byte()
    {
        var message = MessageFile("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel;\r\n\th=from:to:subject; bh=abc=; b=def=\r\nFrom: Shop <orders@example.com>\r\nTo: bob@gmail.test\r\nSubject: =?UTF-8?Q?Best=C3=A4tigung?=\r\nMessage-ID: <m1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße,   trailing spaces stay   \r\n.leading dot line\r\n\r\n");
        var before = world.Upstream.Messages().Count;

        var (code, transcript) = await Swaks.SendAsync(world.Relay.SmtpPort, "orders@example.com", ["bob@gmail.test"], "--data", message);

        Assert.True(code == 0, transcript);
        Assert.Matches(@"<-  250 2\.0\.0 Ok: queued as [0-9A-F]{20}", transcript);
        await world.Relay.WaitUntilAsync(() => world.Upstream.Messages().Count > before, "delivery to the upstream");
        var (envelope, data) = world.Upstream.Messages()[^1];
        Assert.Equal("orders@example.com", envelope.GetProperty("mail_from").GetString());
        Assert.Equal(["bob@gmail.test"], envelope.GetProperty("rcpt_tos").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(RelayWorld.User, envelope.GetProperty("login").GetString());
        Assert.True(envelope.GetProperty("tls").GetBoolean());

        var original = File.ReadAllBytes(message);
        var text = Encoding.UTF8.GetString(data);
        var added = Regex.Match(text, "^Received: [^\r\n]*(\r\n\t[^\r\n]*)*\r\n");
        Assert.True(added.Success, text);
        Assert.Contains("by relay.test (MailRelayOperator) with ESMTP id", added.Value);
        // swaks ends DATA with CRLF "." CRLF after the file, and that CRLF ends the file's last line
        // (RFC 5321 4.1.1.4): the message is the file and one more line end, exactly.
        Assert.Equal([.. original, .. "\r\n"u8.ToArray()], data[Encoding.UTF8.GetByteCount(added.Value)..]);
    }

    [Fact]
    public async Task Mail_from_a_subdomain_and_from_an_exact_address_takes_the_relay()
    {
        var before = world.Upstream.Messages().Count;
        Assert.Equal(0, (await Swaks.SendAsync(world.Relay.SmtpPort, "alerts@eu.mail.example.com", ["ops@gmail.test"])).ExitCode);
        Assert.Equal(0, (await Swaks.SendAsync(world.Relay.SmtpPort, "billing@example.org", ["payer@gmail.test"])).ExitCode);
        await world.Relay.WaitUntilAsync(() => world.Upstream.Messages().Count >= before + 2, "two deliveries to the upstream");
        var senders = world.Upstream.Messages().Select(m => m.Envelope.GetProperty("mail_from").GetString()).ToList();
        Assert.Contains("alerts@eu.mail.example.com", senders);
        Assert.Contains("billing@example.org", senders);
    }

    [Fact]
    public async Task Mail_from_other_senders_goes_directly_to_the_recipients_MX()
    {
        var (code, transcript) = await Swaks.SendAsync(world.Relay.SmtpPort, "someone@other.test", ["carol@example.net"], "--header", "Subject: direct-mx-check");
        Assert.True(code == 0, transcript);
        await world.Relay.WaitUntilAsync(() => world.Sink.Messages().Any(m => m.Contains("direct-mx-check", StringComparison.Ordinal)), "delivery to the MX sink");
        var dump = world.Sink.Messages().First(m => m.Contains("direct-mx-check", StringComparison.Ordinal));
        Assert.Contains("X-Mail-Args: <someone@other.test>", dump);
        Assert.Contains("X-Rcpt-Args: <carol@example.net>", dump);
    }

    [Fact]
    public async Task Recipients_on_different_routes_are_split_and_a_recipient_route_does_not_override_the_sender_route()
    {
        var before = world.Upstream.Messages().Count;
        // partner.example has a recipient route (direct) with a '*' sender: the example.com sender route still wins (rule 2).
        // vip@example.net has a priority-100 route for example.com senders: it goes direct.
        var (code, transcript) = await Swaks.SendAsync(world.Relay.SmtpPort, "news@example.com", ["dave@partner.example", "vip@example.net"], "--header", "Subject: split-check");
        Assert.True(code == 0, transcript);
        await world.Relay.WaitUntilAsync(
            () => world.Upstream.Messages().Count > before && world.Sink.Messages().Any(m => m.Contains("split-check", StringComparison.Ordinal)),
            "one delivery per route");
        var upstream = world.Upstream.Messages().Skip(before).Single(m => Encoding.UTF8.GetString(m.Data).Contains("split-check", StringComparison.Ordinal));
        Assert.Equal(["dave@partner.example"], upstream.Envelope.GetProperty("rcpt_tos").EnumerateArray().Select(e => e.GetString()));
        var direct = world.Sink.Messages().Single(m => m.Contains("split-check", StringComparison.Ordinal));
        Assert.Contains("X-Rcpt-Args: <vip@example.net>", direct);
        Assert.DoesNotContain("X-Rcpt-Args: <dave@partner.example>", direct);
    }

    [Fact]
    public async Task A_reject_route_refuses_at_RCPT_with_its_message()
    {
        var (code, transcript) = await Swaks.SendAsync(world.Relay.SmtpPort, "x@spammy.example", ["y@example.net"]);
        Assert.NotEqual(0, code);
        Assert.Contains("550 5.7.1 spammy.example may not send through this relay", transcript);
    }

    [Fact]
    public async Task A_client_outside_the_allowed_networks_is_denied_relay_access()
    {
        var (code, transcript) = await Swaks.SendAsync(world.Relay.SmtpPort, "orders@example.com", ["bob@gmail.test"], "--local-interface", "127.0.0.9");
        Assert.NotEqual(0, code);
        Assert.Contains("554 5.7.1 relay access denied", transcript);
    }

    [Theory]
    [InlineData("someone@exa mple.com", "bob@gmail.test")]
    [InlineData("someone@-bad-.example", "bob@gmail.test")]
    [InlineData("orders@example.com", "bob@under_score-.example")]
    public async Task A_malformed_address_gets_a_5xx_reply(string from, string to)
    {
        var (code, transcript) = await Swaks.SendAsync(world.Relay.SmtpPort, from, [to], "--quit-after", "RCPT");
        Assert.NotEqual(0, code);
        Assert.Matches(@"<\*\* +5\d\d ", transcript);
    }

    [Fact]
    public async Task An_over_size_message_gets_552()
    {
        var body = Path.Combine(world.Dir, "big.txt");
        await File.WriteAllTextAsync(body, string.Concat(Enumerable.Repeat(new string('x', 76) + "\r\n", 4000)));
        var (code, transcript) = await Swaks.SendAsync(world.Relay.SmtpPort, "orders@example.com", ["bob@gmail.test"], "--body", "@" + body);
        Assert.NotEqual(0, code);
        Assert.True(Regex.IsMatch(transcript, @"<\*\* +552 5?"), transcript);
    }

    [Fact]
    public async Task Metrics_and_health_endpoints_answer()
    {
        Assert.Equal(200, (await world.Relay.GetAsync("/healthz")).Status);
        Assert.Equal(200, (await world.Relay.GetAsync("/readyz")).Status);
        var metrics = await world.Relay.MetricsAsync();
        Assert.Contains("mailrelay_queue_depth", metrics);
        Assert.Contains("mailrelay_routes 5", metrics);
        Assert.DoesNotContain(RelayWorld.Password, metrics);
        Assert.DoesNotContain(RelayWorld.Password, world.Relay.Log);
    }

    [Fact]
    public async Task Consecutive_deliveries_to_the_same_upstream_reuse_the_pooled_connection()
    {
        var before = world.Upstream.Messages().Count;
        Assert.Equal(0, (await Swaks.SendAsync(world.Relay.SmtpPort, "pool1@example.com", ["a@gmail.test"])).ExitCode);
        await world.Relay.WaitUntilAsync(() => world.Upstream.Messages().Count > before, "the first delivery");
        Assert.Equal(0, (await Swaks.SendAsync(world.Relay.SmtpPort, "pool2@example.com", ["b@gmail.test"])).ExitCode);
        await world.Relay.WaitUntilAsync(() => world.Upstream.Messages().Count > before + 1, "the second delivery");

        var sessions = world.Upstream.Messages().Skip(before)
            .Where(m => m.Envelope.GetProperty("mail_from").GetString() is "pool1@example.com" or "pool2@example.com")
            .Select(m => m.Envelope.GetProperty("session").GetInt64()).ToList();
        Assert.Equal(2, sessions.Count);
        Assert.Equal(sessions[0], sessions[1]);
    }

    [Fact]
    public async Task One_client_session_with_150_messages_is_accepted_whole()
    {
        var before = world.Sink.Messages().Count;
        var info = new System.Diagnostics.ProcessStartInfo("/usr/sbin/smtp-source") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-d", "-m", "150", "-l", "2048", "-f", "bulk@other.test", "-t", "bulk@example.net", "-S", "bulk-session", $"127.0.0.1:{world.Relay.SmtpPort}"])
        {
            info.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, output);
        await world.Relay.WaitUntilAsync(() => world.Sink.Messages().Count >= before + 150, "150 deliveries", TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// MAIL FROM's SIZE= is the size of what follows in DATA: the spooled length when the message goes
    /// out unchanged (not measured by serialising it once more), MailKit's measure when preparing it
    /// for the next hop changed it (an 8-bit body without Content-Transfer-Encoding gets one).
    /// </summary>
    [Theory]
    [InlineData("size-plain", "From: a@example.com\r\nSubject: plain\r\n\r\nline one\r\n..dot-stuffed on the wire\r\n")]
    [InlineData("size-prepared", "From: a@example.com\r\nSubject: 8-bit\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGr\u00fc\u00dfe\r\n")]
    public async Task The_declared_SIZE_is_the_size_of_the_message_sent(string local, string content)
    {
        var sender = local + "@example.com";
        var (code, transcript) = await Swaks.SendAsync(world.Relay.SmtpPort, sender, ["bob@gmail.test"], "--data", MessageFile(content));
        Assert.True(code == 0, transcript);

        await world.Relay.WaitUntilAsync(() => world.Upstream.Messages().Any(m => m.Envelope.GetProperty("mail_from").GetString() == sender), "delivery to the upstream");
        var (envelope, data) = world.Upstream.Messages().Single(m => m.Envelope.GetProperty("mail_from").GetString() == sender);
        var options = envelope.GetProperty("mail_options").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains($"SIZE={data.Length}", options);
    }

    private string MessageFile(string content)
    {
        var path = Path.Combine(world.Dir, Guid.NewGuid().ToString("N") + ".eml");
        File.WriteAllBytes(path, Encoding.UTF8.GetBytes(content));
        return path;
    }
}
