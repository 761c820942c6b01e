using System.Globalization;
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

    /// <summary>
    /// Starts the upstream with a certificate and one user on a free port of <paramref name="address"/>,
    /// or on the port of <paramref name="reserved"/> (held until then), or on <paramref name="fixedPort"/> (such as 465).
    /// </summary>
    public static async Task<UpstreamRelay> StartAsync(string address, (string Cert, string Key) tls, string user, string password, int failFirst = 0, PortReservation? reserved = null, int? fixedPort = null, bool implicitTls = false, bool greylist = false, bool smtpUtf8 = false)
    {
        var port = reserved?.Port ?? fixedPort ?? 0;
        var outDir = TestPaths.TempDir("upstream");
        var process = new PeerProcess("/usr/bin/python3",
        [
            TestPaths.Peer("upstream_smtp.py"), "--host", address, "--port", port.ToString(CultureInfo.InvariantCulture),
            "--cert", tls.Cert, "--key", tls.Key, "--user", user, "--password", password, "--outdir", outDir,
            "--fail-first", failFirst.ToString(CultureInfo.InvariantCulture), .. (implicitTls ? new[] { "--implicit-tls" } : []),
            .. (reserved is null ? Array.Empty<string>() : ["--reuse-port"]),
            .. (greylist ? new[] { "--greylist" } : []),
            .. (smtpUtf8 ? new[] { "--smtputf8" } : []),
        ]);
        await process.WaitForOutputAsync("READY", TimeSpan.FromSeconds(20));
        var bound = await process.ListeningAsync(ep => ep.Address.ToString() == address && (port == 0 || ep.Port == port));
        return new UpstreamRelay(process, address, bound.Port, outDir);
    }

    /// <summary>The messages accepted so far: envelope and bytes.</summary>
    public IReadOnlyList<(JsonElement Envelope, byte[] Data)> Messages() =>
        Directory.GetFiles(OutDir, "*.json")
            .OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f), CultureInfo.InvariantCulture))
            .Select(f => (JsonDocument.Parse(File.ReadAllText(f)).RootElement, File.ReadAllBytes(Path.ChangeExtension(f, ".eml"))))
            .ToList();

    /// <summary>How many AUTH attempts the upstream saw.</summary>
    public int AuthAttempts => File.Exists(Path.Combine(OutDir, "auth_attempts"))
        ? int.Parse(File.ReadAllText(Path.Combine(OutDir, "auth_attempts")), CultureInfo.InvariantCulture) : 0;

    /// <inheritdoc />
    public void Dispose() => _process.Dispose();
}
