using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Relay;

/// <summary>Postfix-like limits at receipt: connections in total and per client, recipients per message.</summary>
public sealed class LimitsTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir("limits");
    private readonly PeerSet _peers = new();

    [Fact]
    public async Task Connections_beyond_the_per_client_limit_get_421_and_others_still_get_in()
    {
        var relay = await StartAsync("--max-connections-per-client", "2");
        using var first = await RawSmtp.ConnectAsync(relay.SmtpPort);
        using var second = await RawSmtp.ConnectAsync(relay.SmtpPort);

        var (third, greeting) = await RawSmtp.OpenAsync(relay.SmtpPort);
        using (third)
        {
            Assert.StartsWith("421 4.7.0", greeting);
        }

        using var otherClient = await RawSmtp.ConnectAsync(relay.SmtpPort, from: "127.0.0.5");
        await first.CommandAsync("EHLO still.working", "250");
    }

    [Fact]
    public async Task Connections_beyond_the_total_limit_get_421_until_one_ends()
    {
        var relay = await StartAsync("--max-connections", "2");
        var first = await RawSmtp.ConnectAsync(relay.SmtpPort, from: "127.0.0.5");
        using var second = await RawSmtp.ConnectAsync(relay.SmtpPort, from: "127.0.0.6");

        var (third, greeting) = await RawSmtp.OpenAsync(relay.SmtpPort, from: "127.0.0.7");
        third.Dispose();
        Assert.StartsWith("421 4.7.0", greeting);

        await first.CommandAsync("QUIT", "221");
        first.Dispose();
        var again = await Eventually.UntilAsync("a free connection slot", async () =>
        {
            var (client, reply) = await RawSmtp.OpenAsync(relay.SmtpPort, from: "127.0.0.7");
            client.Dispose();
            return reply;
        }, reply => reply.StartsWith("220", StringComparison.Ordinal), TimeSpan.FromSeconds(10), () => relay.Log);
        Assert.StartsWith("220", again);
    }

    [Fact]
    public async Task Recipients_beyond_the_limit_get_452_and_the_accepted_ones_are_queued()
    {
        var relay = await StartAsync("--max-recipients", "3");
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");
        await client.CommandAsync("MAIL FROM:<orders@example.com>", "250");
        for (var i = 0; i < 3; i++)
        {
            await client.CommandAsync($"RCPT TO:<r{i}@gmail.test>", "250");
        }

        await client.CommandAsync("RCPT TO:<r3@gmail.test>", "452 4.5.3");
        await client.CommandAsync("DATA", "354");
        await client.SendAsync("Subject: three of four\r\n\r\nhi\r\n.\r\n");
        Assert.StartsWith("250", await client.ReplyAsync());

        // The next transaction counts afresh.
        await client.CommandAsync("MAIL FROM:<orders@example.com>", "250");
        await client.CommandAsync("RCPT TO:<r3@gmail.test>", "250");
    }

    [Theory]
    [InlineData("Subject: smuggle\r\n\r\nfirst\n.\nMAIL FROM:<evil@spammy.example>\r\n", "bare LF")]
    [InlineData("Subject: cr\r\n\r\nold\rmac\r\n", "bare CR")]
    [InlineData("Subject: long\r\n\r\n{LONG}\r\n", "longer than 998")]
    public async Task A_message_with_a_bare_newline_or_an_over_long_line_is_refused_at_DATA_and_nothing_is_queued(string body, string problem)
    {
        var relay = await StartAsync();
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");
        await client.BeginMessageAsync("orders@example.com", "bob@gmail.test");
        await client.SendAsync(body.Replace("{LONG}", new string('x', 1200), StringComparison.Ordinal) + ".\r\n");

        var reply = await client.ReplyAsync();
        Assert.StartsWith("550 5.6.0", reply);
        Assert.Contains(problem, reply);
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "spool", "queue")));
        await client.CommandAsync("RSET", "250"); // the session goes on
    }

    [Fact]
    public async Task A_full_spool_answers_452_and_leaves_only_whole_messages()
    {
        var disk = _peers.Keep(new SmallDisk(2 * 1024 * 1024));
        var relay = await StartWithSpoolAsync(disk.Path);
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");

        // A declared SIZE that does not fit (Postfix's rule: 1.5 times the size must be free).
        await client.CommandAsync("MAIL FROM:<orders@example.com> SIZE=1500000", "452 4.3.1");

        // Then fill the disk with messages until the relay says so.
        var body = "Subject: filler\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('x', 76) + "\r\n", 3000)); // ~234 KB
        var acknowledged = new List<string>();
        string reply;
        do
        {
            await client.BeginMessageAsync("orders@example.com", "bob@gmail.test");
            await client.SendAsync(body + ".\r\n");
            reply = await client.ReplyAsync();
            if (reply.StartsWith("250", StringComparison.Ordinal))
            {
                acknowledged.Add(System.Text.RegularExpressions.Regex.Match(reply, "queued as ([0-9A-F]+)").Groups[1].Value);
            }
        }
        while (reply.StartsWith("250", StringComparison.Ordinal) && acknowledged.Count < 50);

        Assert.StartsWith("452 4.3.1", reply);
        Assert.NotEmpty(acknowledged);
        var queue = Path.Combine(disk.Path, "queue");
        foreach (var id in acknowledged)
        {
            Assert.True(File.Exists(Path.Combine(queue, id + ".eml")) && File.Exists(Path.Combine(queue, id + ".json")), id);
        }

        var ids = Directory.GetFiles(queue).Select(f => Path.GetFileNameWithoutExtension(f)).Distinct().Order().ToList();
        Assert.Equal(acknowledged.Order().ToList(), ids); // nothing half-written in the queue
        Assert.Empty(Directory.GetFiles(Path.Combine(disk.Path, "tmp")));
        await client.CommandAsync("RSET", "250");
    }

    public void Dispose() => _peers.Dispose();

    private Task<RelayProcess> StartAsync(params string[] extra) => StartWithSpoolAsync(Path.Combine(_dir, "spool"), extra);

    private async Task<RelayProcess> StartWithSpoolAsync(string spool, params string[] extra)
    {
        var routes = Path.Combine(_dir, "routes", "routes.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(routes)!);
        var upstream = _peers.Keep(new PortReservation(RelayWorld.UpstreamIp));
        await File.WriteAllTextAsync(routes, RelayWorld.Routes(upstream.Port));
        RelayWorld.WriteCredentials(Path.Combine(_dir, "credentials"), "shop.ses", RelayWorld.User, RelayWorld.Password);
        var ca = new TestCertificates(_dir, "ca");
        return _peers.Keep(await RelayProcess.StartAsync(
        [
            "--routes", routes, "--credentials", Path.Combine(_dir, "credentials"), "--spool", spool,
            "--trust-ca", ca.CaFile, "--retry-min", "30s", "--retry-max", "30s", "--allowed-networks", "127.0.0.0/8", .. extra,
        ]));
    }
}
