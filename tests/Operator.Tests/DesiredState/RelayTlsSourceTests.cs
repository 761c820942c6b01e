using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailRelay.Operator.DesiredState;

namespace MailRelay.Operator.Tests.DesiredState;

/// <summary>The relay's certificate from a Secret the user provides (e.g. cert-manager's): what is copied, and when nothing is.</summary>
public sealed class RelayTlsSourceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly IReadOnlyList<string> Names = RelayCertificates.DnsNames("smtp.example.org", "mail-relay", "mail-relay");

    private static Dictionary<string, byte[]> Data(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => Encoding.UTF8.GetBytes(p.Value));

    private static RelayTlsPlan Decide(IDictionary<string, byte[]>? source, IDictionary<string, byte[]>? current = null) =>
        RelayTlsSource.Decide("relay-cert", "mail-relay", source, current, Now);

    [Fact]
    public void Without_a_source_the_operator_issues_its_own()
    {
        Assert.True(RelayTlsSource.Decide(null, "mail-relay", null, null, Now).IssueOwn);
        Assert.True(RelayTlsSource.Decide(string.Empty, "mail-relay", Data(("tls.crt", "x")), null, Now).IssueOwn);
    }

    [Fact]
    public void A_complete_source_is_copied_with_its_ca_crt_and_written_only_when_it_changed()
    {
        var ca = RelayCertificates.IssueCa("user CA", Now);
        var server = RelayCertificates.IssueServer(ca, Names, Now);
        var source = Data(("tls.crt", server.Certificate), ("tls.key", server.Key), ("ca.crt", ca.Certificate));
        var plan = Decide(source);
        Assert.False(plan.IssueOwn);
        Assert.True(plan.SourceReady);
        Assert.Empty(plan.Warnings);
        Assert.Equal(ca.Certificate, plan.CaCertificate);
        Assert.Equal(new Dictionary<string, string> { ["tls.crt"] = server.Certificate, ["tls.key"] = server.Key, ["ca.crt"] = ca.Certificate }, plan.Write);

        // The relay's Secret already says it: nothing to write. A renewal (new tls.crt/tls.key): written again.
        Assert.Null(Decide(source, Data(plan.Write!.Select(kv => (kv.Key, kv.Value)).ToArray())).Write);
        var renewed = RelayCertificates.IssueServer(ca, Names, Now.AddDays(60));
        var again = Decide(Data(("tls.crt", renewed.Certificate), ("tls.key", renewed.Key), ("ca.crt", ca.Certificate)), Data(plan.Write!.Select(kv => (kv.Key, kv.Value)).ToArray()));
        Assert.Equal(renewed.Certificate, again.Write!["tls.crt"]);
    }

    [Fact]
    public void Without_ca_crt_the_issuer_chain_in_tls_crt_beyond_the_leaf_is_the_apps_CA()
    {
        var ca = RelayCertificates.IssueCa("user CA", Now);
        var server = RelayCertificates.IssueServer(ca, Names, Now);
        var plan = Decide(Data(("tls.crt", server.Certificate + "\n" + ca.Certificate + "\n"), ("tls.key", server.Key)));
        Assert.Empty(plan.Warnings);
        using var chainCa = X509Certificate2.CreateFromPem(plan.CaCertificate);
        Assert.Equal("CN=user CA", chainCa.Subject);
        Assert.DoesNotContain(server.Certificate.Split('\n')[1], plan.CaCertificate);
        Assert.Equal(plan.CaCertificate, plan.Write!["ca.crt"]);
        Assert.Equal(string.Empty, RelayTlsSource.IssuerChain(server.Certificate));
    }

    [Fact]
    public void Neither_ca_crt_nor_a_chain_is_said_in_a_Warning_and_the_certificate_is_still_served()
    {
        var ca = RelayCertificates.IssueCa("user CA", Now);
        var server = RelayCertificates.IssueServer(ca, Names, Now);
        var plan = Decide(Data(("tls.crt", server.Certificate), ("tls.key", server.Key), ("ca.crt", " ")));
        Assert.True(plan.SourceReady);
        Assert.Equal(server.Certificate, plan.Write!["tls.crt"]);
        Assert.Equal(string.Empty, plan.CaCertificate);
        Assert.Equal(RelayTlsSource.NoCa, Assert.Single(plan.Warnings).Reason);
    }

    [Fact]
    public void A_missing_or_incomplete_source_keeps_the_last_good_certificate_and_its_CA()
    {
        var ca = RelayCertificates.IssueCa("user CA", Now);
        var other = RelayCertificates.IssueCa("other", Now);
        var server = RelayCertificates.IssueServer(ca, Names, Now);
        var current = Data(("tls.crt", server.Certificate), ("tls.key", server.Key), ("ca.crt", ca.Certificate));
        foreach (var (source, says) in new (Dictionary<string, byte[]>?, string)[]
        {
            (null, "does not exist"),
            (Data(("tls.crt", server.Certificate)), "lacks tls.key"),
            (Data(("ca.crt", ca.Certificate)), "lacks tls.crt and tls.key"),
            (Data(("tls.crt", server.Certificate), ("tls.key", other.Key)), "do not load"), // a key that does not match
            (Data(("tls.crt", "garbage"), ("tls.key", "garbage")), "do not load"),
        })
        {
            var plan = Decide(source, current);
            Assert.False(plan.SourceReady);
            Assert.Null(plan.Write);
            Assert.Equal(ca.Certificate, plan.CaCertificate);
            var warning = Assert.Single(plan.Warnings);
            Assert.Equal(RelayTlsSource.NotReady, warning.Reason);
            Assert.Contains("Secret mail-relay/relay-cert", warning.Message);
            Assert.Contains(says, warning.Message);
            Assert.DoesNotContain(other.Key.Split('\n')[1], warning.Message);
        }

        Assert.Equal(string.Empty, Decide(null).CaCertificate); // nothing good yet
    }

    [Fact]
    public void An_expired_source_is_served_with_a_Warning()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=old", key, HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(Now.AddDays(-10), Now.AddDays(-1));
        var plan = Decide(Data(("tls.crt", cert.ExportCertificatePem()), ("tls.key", key.ExportPkcs8PrivateKeyPem()), ("ca.crt", cert.ExportCertificatePem())));
        Assert.True(plan.SourceReady);
        Assert.NotNull(plan.Write);
        Assert.Equal(RelayTlsSource.Expired, Assert.Single(plan.Warnings).Reason);
    }
}
