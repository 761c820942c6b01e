using System.Net;
using System.Net.Sockets;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>Free TCP/UDP ports on loopback addresses, and waiting for a listener.</summary>
public static class FreePort
{
    private static int _next = 20000 + (Environment.ProcessId % 500) * 40;

    /// <summary>A port free for both TCP and UDP on <paramref name="address"/>.</summary>
    public static int Get(string address = "127.0.0.1")
    {
        for (var i = 0; i < 2000; i++)
        {
            var port = Interlocked.Increment(ref _next);
            try
            {
                using var tcp = new TcpListener(IPAddress.Parse(address), port);
                tcp.Start();
                using var udp = new UdpClient(new IPEndPoint(IPAddress.Parse(address), port));
                tcp.Stop();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free port");
    }

    /// <summary>Waits until something accepts TCP connections at address:port.</summary>
    public static async Task WaitForListenerAsync(string address, int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Parse(address), port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
