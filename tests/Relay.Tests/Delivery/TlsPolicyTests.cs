using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailKit.Security;
using MailRelay.Relay.Delivery;

namespace MailRelay.Relay.Tests.Delivery;

/// <summary>tls: Verify's certificate check and what it says when it refuses (the log line an operator reads).</summary>
public sealed class TlsPolicyTests : IDisposable
{
    private readonly RSA _caKey = RSA.Create(2048);
    private readonly X509Certificate2 _ca;

    public TlsPolicyTests()
    {
        var request = new CertificateRequest("CN=upstream", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    [Fact]
    public void A_certificate_chaining_to_an_extra_anchor_is_accepted()
    {
        using var leaf = Issue("CN=relay-upstream");
        Assert.Null(TlsPolicy.Check(leaf, null, SslPolicyErrors.RemoteCertificateChainErrors, new TrustAnchors([_ca])));
    }

    [Fact]
    public void A_name_mismatch_is_refused_and_said_so_even_with_the_anchor()
    {
        using var leaf = Issue("CN=relay-upstream");
        var problem = TlsPolicy.Check(leaf, null, SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors, new TrustAnchors([_ca]));
        Assert.Equal("the certificate does not name the host (no subjectAltName DNS or IP entry for it)", problem);
    }

    [Fact]
    public void An_untrusted_chain_is_refused_with_OpenSSLs_reason()
    {
        // Subject = issuer and no key identifiers: OpenSSL takes the server certificate for a
        // self-signed one and never looks for the CA (what the images' end-to-end test first hit).
        using var leaf = Issue("CN=upstream");
        var problem = TlsPolicy.Check(leaf, null, SslPolicyErrors.RemoteCertificateChainErrors, new TrustAnchors([_ca]));
        Assert.NotNull(problem);
        Assert.StartsWith("certificate not trusted (system roots and --trust-ca): ", problem);
        Assert.Matches("self.signed", problem);
    }

    [Fact]
    public void Without_extra_anchors_a_chain_error_is_refused()
    {
        using var leaf = Issue("CN=relay-upstream");
        var problem = TlsPolicy.Check(leaf, null, SslPolicyErrors.RemoteCertificateChainErrors, TrustAnchors.None);
        Assert.StartsWith("certificate not trusted: ", problem);
    }

    [Fact]
    public void The_validator_reports_the_refusal_and_the_failure_names_it()
    {
        using var leaf = Issue("CN=relay-upstream");
        string? heard = null;
        var validator = TlsPolicy.Validator(MailRelay.Contracts.RoutingTable.TlsLevel.Verify, TrustAnchors.None, p => heard = p);
        Assert.False(validator(this, leaf, null, SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.Equal("TLS handshake failed: " + heard, SmtpFailure.Describe(new SslHandshakeException("handshake"), heard));
        Assert.Equal("TLS handshake failed: the certificate was not trusted or does not match the host name", SmtpFailure.Describe(new SslHandshakeException("handshake")));
    }

    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
    }

    private X509Certificate2 Issue(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Parse("127.0.0.2"));
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.Create(_ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(12));
        return cert.CopyWithPrivateKey(key);
    }
}
