using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace MailRelay.Relay.Receive;

/// <summary>
/// The STARTTLS certificate (<c>--tls-cert</c>, <c>--tls-key</c>), re-read when either file changes
/// (a renewed certificate in a mounted Secret): each new handshake uses the certificate in force, a
/// session already in TLS keeps its own. A pair that does not load is logged and the previous one
/// stays in force.
/// </summary>
public sealed class ServerCertificate
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    private readonly string _certFile;
    private readonly string _keyFile;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private (DateTime Cert, long CertLength, DateTime Key, long KeyLength) _stamp;
    private DateTime _checked;
    private X509Certificate2 _current;

    public ServerCertificate(string certFile, string keyFile, ILogger logger)
    {
        _certFile = certFile;
        _keyFile = keyFile;
        _logger = logger;
        _stamp = Stamp();
        _current = Load();
        _checked = DateTime.UtcNow;
    }

    /// <summary>The certificate for a new handshake; re-read first when the files changed (checked at most once a second).</summary>
    public X509Certificate2 Current
    {
        get
        {
            lock (_lock)
            {
                var now = DateTime.UtcNow;
                if (now - _checked < CheckEvery)
                {
                    return _current;
                }

                _checked = now;
                var stamp = Stamp();
                if (stamp == _stamp)
                {
                    return _current;
                }

                try
                {
                    var next = Load();
                    _stamp = stamp;
                    _current = next; // the old one stays alive for the sessions using it
                    _logger.LogInformation("Loaded a new TLS certificate: {Subject}, valid until {NotAfter:u}", next.Subject, next.NotAfter.ToUniversalTime());
                }
                catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or ArgumentException)
                {
                    // e.g. the certificate swapped before its key: tried again at the next change or check
                    _logger.LogWarning("Could not load the TLS certificate {Cert} / {Key}: {Error}; the previous one stays in force", _certFile, _keyFile, e.Message);
                    _stamp = default;
                }

                return _current;
            }
        }
    }

    private X509Certificate2 Load() => X509Certificate2.CreateFromPemFile(_certFile, _keyFile);

    private (DateTime, long, DateTime, long) Stamp()
    {
        var cert = new FileInfo(_certFile);
        var key = new FileInfo(_keyFile);
        return (cert.Exists ? cert.LastWriteTimeUtc : default, cert.Exists ? cert.Length : -1, key.Exists ? key.LastWriteTimeUtc : default, key.Exists ? key.Length : -1);
    }
}
