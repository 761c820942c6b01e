using System.Globalization;
using System.Net;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>
/// Ports for peers that cannot bind port 0 and report it (etcd, kube-apiserver, dnsmasq). A port
/// is never probed and released for later use: each try starts the peer on a candidate below the
/// kernel's ephemeral range (so neither bind(0) nor an outgoing connection is ever handed it), and
/// succeeds only once the started process itself holds a listener there. A peer that exits, its
/// port taken by someone else, is tried again on another candidate.
/// </summary>
public static class PeerPorts
{
    private const int Tries = 8;

    /// <summary>Starts <paramref name="start"/>(port) until the process holds <c>port</c> (TCP, and UDP when <paramref name="udp"/>).</summary>
    public static async Task<(PeerProcess Process, int Port)> StartAsync(Func<int, PeerProcess> start, bool udp = false, TimeSpan? timeout = null)
    {
        var failures = new List<string>();
        for (var attempt = 0; attempt < Tries; attempt++)
        {
            var port = Unassigned();
            var process = start(port);
            try
            {
                await process.ListeningAsync(ep => ep.Port == port, timeout);
                if (udp)
                {
                    await Eventually.TrueAsync($"{process.Name} bound UDP port {port}", () => ListeningSockets.Udp(process.Pid).Any(ep => ep.Port == port) || !process.Running,
                        timeout, () => process.Output);
                }

                if (process.Running)
                {
                    return (process, port);
                }
            }
            catch (Xunit.Sdk.XunitException) when (!process.Running)
            {
            }

            failures.Add($"port {port}: {process.Output}");
            process.Dispose();
        }

        throw new InvalidOperationException($"could not start a peer after {Tries} ports:\n{string.Join("\n", failures)}");
    }

    /// <summary>
    /// A random port below the ephemeral range: never handed out by bind(0) or an outgoing
    /// connection, so only a program that names it explicitly can hold it. For programs that must
    /// be told their port; the caller still checks that its program got it.
    /// </summary>
    public static int Unassigned()
    {
        var low = 32768;
        try
        {
            low = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
        }

        var floor = Math.Min(10000, low / 2);
        return Random.Shared.Next(floor, low);
    }
}

/// <summary>
/// A port held by a bound, never listening socket with SO_REUSEPORT: connections to it are refused
/// and no other program can take it, yet a peer that also sets SO_REUSEPORT (the upstream's
/// <c>--reuse-port</c>; note that .NET sets it on every listener) can listen there while it is held. For "nothing listens there yet, later
/// the peer does" without releasing the port in between.
/// </summary>
public sealed class PortReservation : IDisposable
{
    private readonly System.Net.Sockets.Socket _socket;

    /// <summary>Reserves a free port on <paramref name="address"/>.</summary>
    public PortReservation(string address)
    {
        _socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        const int solSocket = 1, soReuseAddr = 2, soReusePort = 15; // Linux
        _socket.SetRawSocketOption(solSocket, soReuseAddr, BitConverter.GetBytes(0)); // .NET sets it; with it another listener could share the port
        _socket.SetRawSocketOption(solSocket, soReusePort, BitConverter.GetBytes(1));
        _socket.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
        Address = address;
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    /// <summary>The address the port is held on.</summary>
    public string Address { get; }

    /// <summary>The held port.</summary>
    public int Port { get; }

    /// <inheritdoc />
    public void Dispose() => _socket.Dispose();
}
