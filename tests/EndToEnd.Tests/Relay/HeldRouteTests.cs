using System.Diagnostics;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Relay;

/// <summary>
/// Held routes (fail closed) in the real relay without the operator: a hold route's mail is
/// accepted and kept, never delivered the default way, and ages into a bounce; a relay route
/// whose credential files are missing is held by the relay itself, and explain says so.
/// </summary>
public sealed class HeldRouteTests : IDisposable
{
    private const string SenderMxIp = "127.0.0.4";
    private readonly string _dir = TestPaths.TempDir("held");
    private readonly PeerSet _peers = new();

    [Fact]
    public async Task Held_mail_is_accepted_never_sent_the_default_way_and_bounces_with_the_reason_when_the_queue_lifetime_ends()
    {
        var senderMx = _peers.Keep(await SmtpSink.StartAsync(SenderMxIp));
        var directMx = _peers.Keep(await SmtpSink.StartAsync(RelayWorld.SinkIp, senderMx.Port));
        var dns = _peers.Keep(await Dnsmasq.StartAsync(
            [("example.net", "mx.example.net", 10), ("other.test", "mx.other.test", 10)],
            [("mx.example.net", RelayWorld.SinkIp), ("mx.other.test", SenderMxIp)]));
        var routes = Path.Combine(_dir, "routes", "routes.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(routes)!);
        await File.WriteAllTextAsync(routes, """
            apiVersion: mailrelay.io/v1alpha1
            kind: RoutingTable
            routes:
              - name: shop/held
                senders: [other.test]
                hold: {reason: "CredentialNotFound: RelayCredential shop/ses does not exist"}
            """);
        var relay = _peers.Keep(await RelayProcess.StartAsync(
            "--routes", routes, "--credentials", Path.Combine(_dir, "credentials"), "--spool", Path.Combine(_dir, "spool"),
            "--dns-server", dns.Endpoint, "--direct-port", RelayProcess.Arg(senderMx.Port),
            "--retry-min", "1s", "--retry-max", "1s", "--max-queue-lifetime", "5s"));

        var (code, transcript) = await Swaks.SendAsync(relay.SmtpPort, "someone@other.test", ["bob@example.net"], "--header", "Subject: held-then-bounced");

        Assert.True(code == 0, transcript); // accepted: 250 at RCPT and after DATA
        await Eventually.UntilAsync("the held gauge", () => relay.MetricsAsync(), m => m.Contains("mailrelay_held_messages{route=\"shop/held\"} 1", StringComparison.Ordinal), context: () => relay.Log);
        Assert.Contains("held: CredentialNotFound: RelayCredential shop/ses does not exist", relay.Log);
        Assert.Contains("Route shop/held is held", relay.Log);

        // Retried every second while held, never delivered; after the lifetime, a bounce to the sender.
        var bounce = await Eventually.UntilAsync("the bounce at the sender's MX", () => senderMx.Messages(),
            m => m.Count == 1 && System.Text.RegularExpressions.Regex.IsMatch(m[0], @"\n--\S+--\s*$"), TimeSpan.FromSeconds(30), () => relay.Log);
        Assert.Contains("X-Mail-Args: <>", bounce[0]);
        Assert.Contains("X-Rcpt-Args: <someone@other.test>", bounce[0]);
        Assert.Contains("Status: 4.4.7", bounce[0]);
        Assert.Contains("held: CredentialNotFound: RelayCredential shop/ses does not exist", bounce[0].Replace("\r\n ", " ", StringComparison.Ordinal));
        Assert.DoesNotContain(senderMx.Messages().Concat(directMx.Messages()), m => m.Contains("X-Rcpt-Args: <bob@example.net>", StringComparison.Ordinal));
        Assert.True(relay.Log.Split('\n').Count(l => l.Contains("via route shop/held: 0 delivered, 1 deferred, 0 failed (held: ", StringComparison.Ordinal)) >= 2, "held mail is retried like deferred mail:\n" + relay.Log);
        Assert.DoesNotContain("mailrelay_held_messages{", await relay.MetricsAsync());
    }

    [Fact]
    public async Task A_relay_route_whose_credential_files_are_missing_is_held_and_explain_says_so()
    {
        var routes = Path.Combine(_dir, "routes.yaml");
        var credentials = Path.Combine(_dir, "credentials");
        await File.WriteAllTextAsync(routes, RelayWorld.Routes(2587));
        RelayWorld.WriteCredentials(credentials, "shop.other", "u", "p"); // not shop.ses

        var (exit, output) = await ExplainAsync("--routes", routes, "--credentials", credentials, "--from", "news@example.com", "--to", "bob@example.net");
        var (_, without) = await ExplainAsync("--routes", routes, "--from", "news@example.com", "--to", "bob@example.net");

        Assert.Equal(0, exit);
        Assert.Contains("route:     shop/example-com-via-ses -> held: credential 'shop.ses' is not in the relay's credentials directory", output);
        Assert.Contains("hold:      accepted and queued", output);
        Assert.Contains("route:     shop/example-com-via-ses -> relay 127.0.0.2:2587 tls=Verify credential=shop.ses", without);
    }

    public void Dispose() => _peers.Dispose();

    private static async Task<(int Exit, string Output)> ExplainAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[TestPaths.RelayDll, "explain", .. args])
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output + error);
    }
}
