using System.Net;
using System.Net.Sockets;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>The harness itself: waits fail informatively, ports are never probed and released.</summary>
public sealed class HarnessTests
{
    [Fact]
    public async Task Eventually_fails_with_what_it_awaited_the_last_value_and_the_context()
    {
        var n = 0;
        var e = await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(() =>
            Eventually.UntilAsync("n to reach 1000", () => ++n, v => v >= 1000, TimeSpan.FromMilliseconds(300), () => "peer log: hello"));

        Assert.Contains("n to reach 1000", e.Message);
        Assert.Contains($"last observed: {n}", e.Message);
        Assert.Contains("peer log: hello", e.Message);
    }

    [Fact]
    public async Task Eventually_reports_the_last_exception_and_gives_up_at_once_when_abandoned()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(() =>
            Eventually.UntilAsync("a value", new Func<int>(() => throw new IOException("disk on fire")), _ => true, TimeSpan.FromSeconds(30), abandon: () => true));

        Assert.Contains("gave up", e.Message);
        Assert.Contains("IOException: disk on fire", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), watch.Elapsed.ToString());
    }

    [Fact]
    public async Task A_peer_on_port_0_reports_the_port_it_holds()
    {
        using var sink = await SmtpSink.StartAsync("127.0.0.3");

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Parse("127.0.0.3"), sink.Port);
        var greeting = new byte[64];
        var read = await client.GetStream().ReadAsync(greeting);
        Assert.StartsWith("220", System.Text.Encoding.ASCII.GetString(greeting, 0, read));
    }

    [Fact]
    public async Task A_reserved_port_refuses_connections_and_other_programs_but_lets_the_upstream_join()
    {
        using var reservation = new PortReservation("127.0.0.2");

        using (var client = new TcpClient())
        {
            var refused = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Parse("127.0.0.2"), reservation.Port));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        // Another program (not .NET, whose sockets all set SO_REUSEPORT) cannot take it.
        var bind = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", ["-c", $"import socket; socket.socket().bind(('127.0.0.2', {reservation.Port}))"])
        {
            RedirectStandardError = true,
        };
        using (var other = System.Diagnostics.Process.Start(bind)!)
        {
            var error = await other.StandardError.ReadToEndAsync();
            await other.WaitForExitAsync();
            Assert.NotEqual(0, other.ExitCode);
            Assert.Contains("Address already in use", error);
        }

        var dir = TestPaths.TempDir("harness");
        var tls = new TestCertificates(dir, "ca").Issue("up", ["127.0.0.2"], []);
        using var upstream = await UpstreamRelay.StartAsync("127.0.0.2", tls, "u", "p", reserved: reservation);
        Assert.Equal(reservation.Port, upstream.Port);
    }
}
