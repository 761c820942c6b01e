using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace MailRelay.Operator.DesiredState;

/// <summary>A Warning the operator records about the relay's certificate: reason and message (names only, never a key).</summary>
public sealed record TlsWarning(string Reason, string Message);

/// <summary>
/// What to do about the relay's certificate Secret (<c>--relay-tls-secret-name</c>): issue it from the operator's CA
/// (<see cref="IssueOwn"/>), or copy the user's source Secret (<c>--relay-tls-source-secret</c>).
/// <see cref="Write"/>: the data to write (null: write nothing, the Secret already says it or the source is not usable).
/// <see cref="CaCertificate"/>: the apps' <c>ca.crt</c> (with <see cref="IssueOwn"/>, the operator's CA decides it).
/// <see cref="SourceReady"/>: false while the source is missing or incomplete (the last good certificate stays; retry).
/// </summary>
public sealed record RelayTlsPlan(bool IssueOwn, IReadOnlyDictionary<string, string>? Write, string CaCertificate, bool SourceReady, IReadOnlyList<TlsWarning> Warnings)
{
    public static RelayTlsPlan Issue { get; } = new(true, null, string.Empty, true, []);
}

/// <summary>
/// The pure decision between the operator's own CA and a certificate Secret the user provides (API.md: "or with a
/// certificate Secret the user provides (e.g. from cert-manager)"), and what to copy from it: <c>tls.crt</c>,
/// <c>tls.key</c>, and for the apps' <c>ca.crt</c> the source's <c>ca.crt</c>, else the issuer chain in <c>tls.crt</c>
/// beyond the leaf, else nothing (a Warning).
/// </summary>
public static class RelayTlsSource
{
    public const string NotReady = "RelayTlsSourceNotReady";
    public const string NoCa = "RelayTlsSourceNoCA";
    public const string Expired = "RelayTlsSourceExpired";

    /// <summary>
    /// <paramref name="sourceName"/> null or empty: the operator issues its own. Else <paramref name="source"/> is the
    /// source Secret's data (null: it does not exist) and <paramref name="current"/> the relay's Secret's data (null: none yet).
    /// </summary>
    public static RelayTlsPlan Decide(string? sourceName, string @namespace, IDictionary<string, byte[]>? source, IDictionary<string, byte[]>? current, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(sourceName))
        {
            return RelayTlsPlan.Issue;
        }

        var currentCa = Text(current, "ca.crt") ?? string.Empty;
        var where = $"Secret {@namespace}/{sourceName} (--relay-tls-source-secret)";
        if (source is null)
        {
            return Keep(currentCa, new TlsWarning(NotReady, $"{where} does not exist; the relay keeps its last certificate"));
        }

        var missing = new[] { "tls.crt", "tls.key" }.Where(k => string.IsNullOrWhiteSpace(Text(source, k))).ToList();
        if (missing.Count > 0)
        {
            return Keep(currentCa, new TlsWarning(NotReady, $"{where} lacks {string.Join(" and ", missing)}; the relay keeps its last certificate"));
        }

        var certificate = Text(source, "tls.crt")!;
        var key = Text(source, "tls.key")!;
        var warnings = new List<TlsWarning>();
        try
        {
            using var leaf = X509Certificate2.CreateFromPem(certificate, key);
            if (leaf.NotAfter.ToUniversalTime() <= now.UtcDateTime)
            {
                warnings.Add(new TlsWarning(Expired, $"{where}: its certificate expired {leaf.NotAfter.ToUniversalTime():u}; the relay serves it until the source is renewed"));
            }
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return Keep(currentCa, new TlsWarning(NotReady, $"{where}: tls.crt and tls.key do not load as a certificate with its key; the relay keeps its last certificate"));
        }

        var ca = Text(source, "ca.crt") is { } given && !string.IsNullOrWhiteSpace(given) ? given : IssuerChain(certificate);
        if (ca.Length == 0)
        {
            warnings.Add(new TlsWarning(NoCa, $"{where} has no ca.crt and tls.crt no issuer chain: the apps' ca.crt is empty (verify the relay against the system's roots, or add ca.crt to the source)"));
        }

        var wanted = new Dictionary<string, string>(StringComparer.Ordinal) { ["tls.crt"] = certificate, ["tls.key"] = key, ["ca.crt"] = ca };
        var same = current is not null && current.Count == wanted.Count && wanted.All(kv => Text(current, kv.Key) == kv.Value);
        return new RelayTlsPlan(false, same ? null : wanted, ca, true, warnings);
    }

    /// <summary>The certificates of a PEM bundle after the first (the leaf), as PEM; empty when there are none.</summary>
    public static string IssuerChain(string pemBundle)
    {
        var chain = new StringBuilder();
        var span = pemBundle.AsSpan();
        var first = true;
        while (PemEncoding.TryFind(span, out var fields))
        {
            var label = span[fields.Label];
            if (label.SequenceEqual("CERTIFICATE"))
            {
                if (!first)
                {
                    chain.Append(span[fields.Location]).Append('\n');
                }

                first = false;
            }

            span = span[fields.Location.End..];
        }

        return chain.ToString();
    }

    private static RelayTlsPlan Keep(string currentCa, TlsWarning warning) => new(false, null, currentCa, false, [warning]);

    private static string? Text(IDictionary<string, byte[]>? data, string key) =>
        data is not null && data.TryGetValue(key, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
}
