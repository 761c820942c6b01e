using System.Globalization;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>dnsmasq serving only the given MX and A records on 127.0.0.1 (no upstream resolvers).</summary>
public sealed class Dnsmasq : IDisposable
{
    private readonly PeerProcess _process;

    private Dnsmasq(PeerProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>UDP/TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary><c>127.0.0.1:PORT</c>, for <c>--dns-server</c>.</summary>
    public string Endpoint => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Starts dnsmasq; <paramref name="mx"/> are (domain, mx host, preference), <paramref name="hosts"/> (name, ip).</summary>
    public static async Task<Dnsmasq> StartAsync(IEnumerable<(string Domain, string Host, int Preference)> mx, IEnumerable<(string Name, string Ip)> hosts, IEnumerable<string>? extra = null)
    {
        var zones = mx.Select(m => m.Domain).Concat(hosts.Select(h => h.Name)).Select(n => n[(n.LastIndexOf('.') + 1)..]).Distinct().ToList();
        var (process, port) = await PeerPorts.StartAsync(port =>
        {
            List<string> args =
            [
                "--keep-in-foreground", "--no-daemon", "--log-facility=-", "--user=root", "--no-resolv", "--no-hosts", "--no-poll",
                "--bind-interfaces", "--listen-address=127.0.0.1", "--port=" + port.ToString(CultureInfo.InvariantCulture),
                "--pid-file=", "--conf-file=/dev/null",
            ];
            args.AddRange(mx.Select(m => $"--mx-host={m.Domain},{m.Host},{m.Preference.ToString(CultureInfo.InvariantCulture)}"));
            args.AddRange(hosts.Select(h => $"--host-record={h.Name},{h.Ip}"));
            // Answer for the test domains locally (NODATA/NXDOMAIN) instead of REFUSED for lack of upstream servers.
            args.AddRange(zones.Select(z => $"--local=/{z}/"));
            args.AddRange(extra ?? []);
            return new PeerProcess("/usr/sbin/dnsmasq", args);
        }, udp: true);
        return new Dnsmasq(process, port);
    }

    /// <inheritdoc />
    public void Dispose() => _process.Dispose();
}
