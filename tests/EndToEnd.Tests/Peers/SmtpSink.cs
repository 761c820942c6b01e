using System.Globalization;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>Postfix's smtp-sink as a recipient domain's MX: dumps each transaction to a file.</summary>
public sealed class SmtpSink : IDisposable
{
    private readonly PeerProcess _process;

    private SmtpSink(PeerProcess process, string address, int port, string dumpDir)
    {
        _process = process;
        Address = address;
        Port = port;
        DumpDir = dumpDir;
    }

    /// <summary>Listening address.</summary>
    public string Address { get; }

    /// <summary>Listening port.</summary>
    public int Port { get; }

    /// <summary>Where transactions are dumped.</summary>
    public string DumpDir { get; }

    /// <summary>Starts smtp-sink (as nobody) on a free port of <paramref name="address"/>; <paramref name="extra"/> adds options such as fault injection.</summary>
    public static Task<SmtpSink> StartAsync(string address, params string[] extra) => StartAsync(address, 0, extra);

    /// <summary>
    /// Starts smtp-sink on <paramref name="address"/>:<paramref name="port"/> (0: a free port): a
    /// given port is for a second MX beside another sink (the relay has one --direct-port); should
    /// it be taken, smtp-sink exits and this fails with its output.
    /// </summary>
    public static async Task<SmtpSink> StartAsync(string address, int port, params string[] extra)
    {
        var dumpDir = TestPaths.TempDir("sink");
        var process = new PeerProcess("/usr/sbin/smtp-sink",
            ["-u", "nobody", "-d", Path.Combine(dumpDir, "%Y%m%d%H%M%S."), .. extra, $"{address}:{port.ToString(CultureInfo.InvariantCulture)}", "64"]);
        var bound = await process.ListeningAsync(ep => ep.Address.ToString() == address && (port == 0 || ep.Port == port));
        return new SmtpSink(process, address, bound.Port, dumpDir);
    }

    /// <summary>The dumped transactions (envelope header lines, then the message), as text.</summary>
    public IReadOnlyList<string> Messages() =>
        Directory.GetFiles(DumpDir).Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList();

    /// <inheritdoc />
    public void Dispose() => _process.Dispose();
}
