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

    /// <summary>The certificate check for a level: full for Verify (system roots plus <paramref name="anchors"/>), none otherwise.</summary>
    public static RemoteCertificateValidationCallback Validator(TlsLevel level, TrustAnchors anchors) => level == TlsLevel.Verify
        ? (_, certificate, chain, errors) => Verify(certificate, chain, errors, anchors)
        : (_, _, _, _) => true;

    /// <summary>Chain and host name check, accepting chains that end in one of the extra anchors.</summary>
    public static bool Verify(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, TrustAnchors anchors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        if (anchors.Certificates.Count == 0)
        {
            return false;
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

        return custom.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
