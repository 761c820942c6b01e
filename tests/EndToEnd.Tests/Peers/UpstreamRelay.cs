using System.Text.Json;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>aiosmtpd standing in for SES: requires STARTTLS and AUTH; stores what it accepts.</summary>
public sealed class UpstreamRelay : IDisposable
{
    private readonly PeerProcess _process;

    private UpstreamRelay(PeerProcess process, string address, int port, string outDir)
    {
        _process = process;
        Address = address;
        Port = port;
        OutDir = outDir;
    }

    /// <summary>Listening address.</summary>
    public string Address { get; }

    /// <summary>Listening port (STARTTLS).</summary>
    public int Port { get; }

    /// <summary>Where received messages are written.</summary>
    public string OutDir { get; }

    /// <summary>The peer's output, for failure messages.</summary>
    public string Log => _process.Output;

    /// <summary>Starts the upstream with a certificate and one user.</summary>
    public static async Task<UpstreamRelay> StartAsync(string address, (string Cert, string Key) tls, string user, string password, int failFirst = 0, int? portOverride = null, bool implicitTls = false)
    {
        var port = portOverride ?? FreePort.Get(address);
        var outDir = TestPaths.TempDir("upstream");
        var process = new PeerProcess("/usr/bin/python3",
        [
            TestPaths.Peer("upstream_smtp.py"), "--host", address, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--cert", tls.Cert, "--key", tls.Key, "--user", user, "--password", password, "--outdir", outDir,
            "--fail-first", failFirst.ToString(System.Globalization.CultureInfo.InvariantCulture), .. (implicitTls ? new[] { "--implicit-tls" } : []),
        ]);
        await process.WaitForOutputAsync("READY", TimeSpan.FromSeconds(20));
        await FreePort.WaitForListenerAsync(address, port, TimeSpan.FromSeconds(10));
        return new UpstreamRelay(process, address, port, outDir);
    }

    /// <summary>The messages accepted so far: envelope and bytes.</summary>
    public IReadOnlyList<(JsonElement Envelope, byte[] Data)> Messages() =>
        Directory.GetFiles(OutDir, "*.json")
            .OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f), System.Globalization.CultureInfo.InvariantCulture))
            .Select(f => (JsonDocument.Parse(File.ReadAllText(f)).RootElement, File.ReadAllBytes(Path.ChangeExtension(f, ".eml"))))
            .ToList();

    /// <summary>How many AUTH attempts the upstream saw.</summary>
    public int AuthAttempts => File.Exists(Path.Combine(OutDir, "auth_attempts"))
        ? int.Parse(File.ReadAllText(Path.Combine(OutDir, "auth_attempts")), System.Globalization.CultureInfo.InvariantCulture) : 0;

    /// <inheritdoc />
    public void Dispose() => _process.Dispose();
}
