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
    public static async Task<SmtpSink> StartAsync(string address, params string[] extra)
    {
        var dumpDir = TestPaths.TempDir("sink");
        var process = new PeerProcess("/usr/sbin/smtp-sink",
            ["-u", "nobody", "-d", Path.Combine(dumpDir, "%Y%m%d%H%M%S."), .. extra, $"{address}:0", "64"]);
        var bound = await process.ListeningAsync(ep => ep.Address.ToString() == address);
        return new SmtpSink(process, address, bound.Port, dumpDir);
    }

    /// <summary>The dumped transactions (envelope header lines, then the message), as text.</summary>
    public IReadOnlyList<string> Messages() =>
        Directory.GetFiles(DumpDir).Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList();

    /// <inheritdoc />
    public void Dispose() => _process.Dispose();
}
