using System.Globalization;
using System.Net;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>
/// Which sockets a process listens on, read from the kernel (/proc/PID/fd and /proc/net/*): how a
/// peer started on port 0 reports its port, and how a peer given a port proves that it, and not
/// some other process, holds it.
/// </summary>
public static class ListeningSockets
{
    /// <summary>The (address, port) of every listening TCP socket of <paramref name="pid"/>.</summary>
    public static IReadOnlyList<IPEndPoint> Tcp(int pid) => Of(pid, ["tcp", "tcp6"], listenState: "0A");

    /// <summary>The (address, port) of every bound UDP socket of <paramref name="pid"/>.</summary>
    public static IReadOnlyList<IPEndPoint> Udp(int pid) => Of(pid, ["udp", "udp6"], listenState: "07");

    private static List<IPEndPoint> Of(int pid, string[] tables, string listenState)
    {
        var inodes = SocketInodes(pid);
        var result = new List<IPEndPoint>();
        foreach (var table in tables)
        {
            var path = "/proc/net/" + table;
            if (!File.Exists(path))
            {
                continue;
            }

            foreach (var line in File.ReadLines(path).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 9 && f[3] == listenState && inodes.Contains(f[9]))
                {
                    result.Add(Parse(f[1]));
                }
            }
        }

        return result;
    }

    private static HashSet<string> SocketInodes(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target[8..^1]);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the process has exited (or is exiting): it holds nothing
        }

        return inodes;
    }

    // "0100007F:1F90" (IPv4) or 32 hex digits (IPv6), each 32-bit word in host (little-endian) order.
    private static IPEndPoint Parse(string hexEndPoint)
    {
        var colon = hexEndPoint.IndexOf(':');
        var hex = hexEndPoint[..colon];
        var port = int.Parse(hexEndPoint[(colon + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var bytes = Convert.FromHexString(hex);
        for (var word = 0; word < bytes.Length; word += 4)
        {
            Array.Reverse(bytes, word, 4);
        }

        return new IPEndPoint(new IPAddress(bytes), port);
    }
}
