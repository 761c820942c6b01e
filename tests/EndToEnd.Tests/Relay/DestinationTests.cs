using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Relay;

/// <summary>
/// A next hop that hangs cannot take every delivery worker: at most --destination-concurrency
/// deliveries wait on it, and once it has not answered it is suspended, so the rest of its mail is
/// deferred at once and mail for other destinations flows meanwhile.
/// </summary>
public sealed class DestinationTests : IDisposable
{
    private const string TarpitIp = "127.0.0.6";
    private readonly string _dir = TestPaths.TempDir("destination");
    private readonly PeerSet _peers = new();

    [Fact]
    public async Task A_hanging_next_hop_holds_at_most_its_share_of_workers_and_other_mail_flows()
    {
        // Direct delivery uses one port for every MX: the tarpit takes the sink's port on its own address.
        var sink = _peers.Keep(await SmtpSink.StartAsync(RelayWorld.SinkIp));
        var tarpit = _peers.Keep(Tarpit.Start(TarpitIp, sink.Port));
        var dns = _peers.Keep(await Dnsmasq.StartAsync(
            [("example.net", "mx.example.net", 10), ("tarpit.example", "mx.tarpit.example", 10)],
            [("mx.example.net", RelayWorld.SinkIp), ("mx.tarpit.example", TarpitIp)]));
        var routes = Path.Combine(_dir, "routes", "routes.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(routes)!);
        await File.WriteAllTextAsync(routes, "apiVersion: mailrelay.io/v1alpha1\nkind: RoutingTable\nroutes: []\n");

        var relay = _peers.Keep(await RelayProcess.StartAsync(
        [
            "--routes", routes, "--credentials", Path.Combine(_dir, "credentials"), "--spool", Path.Combine(_dir, "spool"),
            "--allowed-networks", "127.0.0.0/8", "--dns-server", dns.Endpoint, "--direct-port", RelayProcess.Arg(sink.Port),
            "--delivery-concurrency", "4", "--destination-concurrency", "2", "--smtp-timeout", "20s",
            "--retry-min", "10m", "--retry-max", "10m",
        ]));

        // Eight messages for the hanging destination first, then one for a healthy one.
        using var client = await RawSmtp.ConnectAsync(relay.SmtpPort);
        await client.CommandAsync("EHLO client.test", "250");
        for (var i = 0; i < 8; i++)
        {
            await SendAsync(client, $"stuck{i}@tarpit.example", $"stuck {i}");
        }

        await SendAsync(client, "bob@example.net", "healthy");

        // The healthy message arrives while the tarpit still holds its first connections: it did not wait for their time-out.
        await Eventually.UntilAsync("the healthy message at its MX", () => sink.Messages(), m => m.Any(x => x.Contains("healthy", StringComparison.Ordinal)), TimeSpan.FromSeconds(15), () => relay.Log);
        Assert.Equal(0, CountDeferred(relay.Log));
        Assert.True(tarpit.Accepted <= 2, $"{tarpit.Accepted} connections to the hanging host at once");

        // After its time-out the destination is suspended: the other six are deferred without a connection each.
        await relay.WaitUntilAsync(() => CountDeferred(relay.Log) >= 8, "all eight tarpit messages deferred", TimeSpan.FromSeconds(60));
        Assert.Equal(2, tarpit.Accepted);
        Assert.Contains("could not be reached; not tried again before", relay.Log);
    }

    public void Dispose() => _peers.Dispose();

    private static int CountDeferred(string log) =>
        log.Split('\n').Count(l => l.Contains("Delivery of", StringComparison.Ordinal) && l.Contains("1 deferred", StringComparison.Ordinal));

    private static async Task SendAsync(RawSmtp client, string recipient, string subject)
    {
        await client.CommandAsync("MAIL FROM:<someone@other.test>", "250");
        await client.CommandAsync($"RCPT TO:<{recipient}>", "250");
        await client.CommandAsync("DATA", "354");
        await client.SendAsync($"Subject: {subject}\r\n\r\nhello\r\n.\r\n");
        Assert.StartsWith("250", await client.ReplyAsync());
    }
}
