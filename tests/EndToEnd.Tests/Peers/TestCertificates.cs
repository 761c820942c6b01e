using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>
/// A throw-away CA and server certificates signed by it, written as PEM files. The CA's subject is
/// "CN=NAME test CA" and every server certificate carries the CA's key identifier (authority key
/// identifier = the CA's subject key identifier): a server certificate whose CN equals the CA's
/// would otherwise have subject = issuer and no key identifiers, which OpenSSL takes for a
/// self-signed certificate ("self-signed certificate" at depth 0) and never chains to the CA.
/// </summary>
public sealed class TestCertificates
{
    private readonly X509Certificate2 _ca;
    private readonly string _dir;

    /// <summary>Creates a CA called <paramref name="name"/> in <paramref name="dir"/>.</summary>
    public TestCertificates(string dir, string name)
    {
        _dir = dir;
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name} test CA", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        CaFile = Path.Combine(dir, name + "-ca.pem");
        File.WriteAllText(CaFile, _ca.ExportCertificatePem());
    }

    /// <summary>The CA certificate (PEM), for <c>--trust-ca</c>.</summary>
    public string CaFile { get; }

    /// <summary>Issues a server certificate (CN = <paramref name="fileName"/>) for the given IPs and DNS names; returns (cert, key) PEM paths.</summary>
    public (string Cert, string Key) Issue(string fileName, IEnumerable<string> ips, IEnumerable<string> dnsNames)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={fileName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var ip in ips)
        {
            san.AddIpAddress(IPAddress.Parse(ip));
        }

        foreach (var dns in dnsNames)
        {
            san.AddDnsName(dns);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var serial = RandomNumberGenerator.GetBytes(12);
        using var cert = request.Create(_ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(30), serial);
        var certFile = Path.Combine(_dir, fileName + ".crt");
        var keyFile = Path.Combine(_dir, fileName + ".key");
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certFile, keyFile);
    }
}
