using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MailKit.Security;
using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Relay.Delivery;

/// <summary>
/// Maps a route's TLS level to MailKit's connection options and certificate check.
/// Revocation is not checked: pods often cannot reach CRL/OCSP servers and MailKit then hangs
/// for minutes; the chain and the host name are.
/// </summary>
public static class TlsPolicy
{
    /// <summary>How to connect: implicit TLS on 465, else STARTTLS required, opportunistic or off.</summary>
    public static SecureSocketOptions SocketOptions(TlsLevel level, bool implicitTls) => level switch
    {
        TlsLevel.None => SecureSocketOptions.None,
        _ when implicitTls => SecureSocketOptions.SslOnConnect,
        TlsLevel.Opportunistic => SecureSocketOptions.StartTlsWhenAvailable,
        _ => SecureSocketOptions.StartTls,
    };

    /// <summary>
    /// The certificate check for a level: full for Verify (system roots plus <paramref name="anchors"/>), none otherwise.
    /// <paramref name="rejected"/> hears why a certificate was refused (MailKit's handshake error does not say).
    /// </summary>
    public static RemoteCertificateValidationCallback Validator(TlsLevel level, TrustAnchors anchors, Action<string>? rejected = null) => level == TlsLevel.Verify
        ? (_, certificate, chain, errors) =>
        {
            var problem = Check(certificate, chain, errors, anchors);
            if (problem is not null)
            {
                rejected?.Invoke(problem);
            }

            return problem is null;
        }
    : (_, _, _, _) => true;

    /// <summary>Chain and host name check, accepting chains that end in one of the extra anchors.</summary>
    public static bool Verify(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, TrustAnchors anchors) =>
        Check(certificate, chain, errors, anchors) is null;

    /// <summary>Why the certificate is refused (no secrets: names and OpenSSL's chain status), or null when it is accepted.</summary>
    public static string? Check(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, TrustAnchors anchors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return null;
        }

        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return "the server sent no certificate";
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return "the certificate does not name the host (no subjectAltName DNS or IP entry for it)";
        }

        if (anchors.Certificates.Count == 0)
        {
            return "certificate not trusted: " + Describe(chain);
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(anchors.Certificates);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()))
            ? null
            : "certificate not trusted (system roots and --trust-ca): " + Describe(custom);
    }

    private static string Describe(X509Chain? chain)
    {
        var reasons = chain?.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct().ToList() ?? [];
        return reasons.Count == 0 ? "no chain to a trusted root" : string.Join("; ", reasons);
    }
}
