using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MailRelay.Operator.DesiredState;

/// <summary>A PEM certificate and its PEM private key.</summary>
public sealed record PemPair(string Certificate, string Key);

/// <summary>
/// The relay's TLS certificate, issued by the operator's own CA (API.md: "AUTH is offered only after
/// STARTTLS: the relay serves TLS with a certificate the operator issues from its own CA; ca.crt is
/// that CA"). ECDSA P-256; the CA lives 10 years, a server certificate 90 days and is renewed when
/// fewer than 30 remain, when its names change, or when it is not signed by the CA in force.
/// The decisions take the time as an argument; only key generation is random.
/// </summary>
public static class RelayCertificates
{
    /// <summary>How long a new server certificate is valid.</summary>
    public static readonly TimeSpan ServerLifetime = TimeSpan.FromDays(90);

    /// <summary>A server certificate with less than this left is renewed.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    /// <summary>The DNS names of the relay's certificate: the host apps are given, and the Service's other spellings.</summary>
    public static IReadOnlyList<string> DnsNames(string host, string service, string @namespace) =>
        new[] { host, service, $"{service}.{@namespace}", $"{service}.{@namespace}.svc", $"{service}.{@namespace}.svc.cluster.local" }
            .Select(n => n.ToLowerInvariant())
            .Distinct(StringComparer.Ordinal)
            .ToList();

    /// <summary>A new self-signed CA.</summary>
    public static PemPair IssueCa(string name, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var ca = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        return new PemPair(ca.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>A new server certificate for <paramref name="dnsNames"/>, signed by <paramref name="ca"/>.</summary>
    public static PemPair IssueServer(PemPair ca, IReadOnlyList<string> dnsNames, DateTimeOffset now)
    {
        using var issuer = X509Certificate2.CreateFromPem(ca.Certificate, ca.Key);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsNames[0]}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
        {
            san.AddDnsName(name);
        }

        request.CertificateExtensions.Add(san.Build(critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var notAfter = now + ServerLifetime;
        if (notAfter > issuer.NotAfter)
        {
            notAfter = issuer.NotAfter;
        }

        using var cert = request.Create(issuer, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        return new PemPair(cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>True when <paramref name="ca"/> is a usable CA pair (parses, key matches, not expired at <paramref name="now"/>).</summary>
    public static bool IsUsableCa(PemPair? ca, DateTimeOffset now)
    {
        if (ca is null)
        {
            return false;
        }

        try
        {
            using var cert = X509Certificate2.CreateFromPem(ca.Certificate, ca.Key);
            return cert.HasPrivateKey && cert.NotAfter.ToUniversalTime() > now.UtcDateTime + RenewBefore;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Null when <paramref name="server"/> may stay, else why it is (re)issued.</summary>
    public static string? WhyIssue(PemPair? server, string caCertificate, IReadOnlyList<string> dnsNames, DateTimeOffset now)
    {
        if (server is null)
        {
            return "none yet";
        }

        try
        {
            using var cert = X509Certificate2.CreateFromPem(server.Certificate, server.Key);
            using var ca = X509Certificate2.CreateFromPem(caCertificate);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationTime = now.UtcDateTime;
            if (!chain.Build(cert))
            {
                return "not signed by the CA in force (or not valid now)";
            }

            if (cert.NotAfter.ToUniversalTime() - now.UtcDateTime < RenewBefore)
            {
                return $"it expires {cert.NotAfter.ToUniversalTime():u}";
            }

            var names = cert.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()).Order(StringComparer.Ordinal);
            return names.SequenceEqual(dnsNames.Order(StringComparer.Ordinal)) ? null : "its names differ";
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return "it does not parse";
        }
    }
}
