using System.Security.Cryptography.X509Certificates;
using MailRelay.Operator.DesiredState;

namespace MailRelay.Operator.Tests.DesiredState;

/// <summary>The relay's certificate from the operator's CA: when it is (re)issued.</summary>
public sealed class RelayCertificatesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly IReadOnlyList<string> Names = RelayCertificates.DnsNames("mail-relay.mail-relay.svc", "mail-relay", "mail-relay");

    [Fact]
    public void The_names_are_the_host_and_the_Services_spellings_once_each()
    {
        Assert.Equal(["mail-relay.mail-relay.svc", "mail-relay", "mail-relay.mail-relay", "mail-relay.mail-relay.svc.cluster.local"], Names);
        Assert.Equal("smtp.example.org", RelayCertificates.DnsNames("SMTP.example.org", "mail-relay", "ops")[0]);
    }

    [Fact]
    public void A_certificate_issued_from_the_CA_stays_until_30_days_before_it_expires()
    {
        var ca = RelayCertificates.IssueCa("test CA", Now);
        Assert.True(RelayCertificates.IsUsableCa(ca, Now));
        var server = RelayCertificates.IssueServer(ca, Names, Now);
        Assert.Null(RelayCertificates.WhyIssue(server, ca.Certificate, Names, Now));
        Assert.Null(RelayCertificates.WhyIssue(server, ca.Certificate, Names, Now.AddDays(59)));
        Assert.StartsWith("it expires", RelayCertificates.WhyIssue(server, ca.Certificate, Names, Now.AddDays(61)));

        using var cert = X509Certificate2.CreateFromPem(server.Certificate);
        Assert.Equal("CN=test CA", cert.Issuer);
        Assert.Equal(Names.Order(), cert.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames().Order());
        Assert.Contains(cert.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.1");
    }

    [Fact]
    public void Another_CA_other_names_or_garbage_mean_a_new_certificate()
    {
        var ca = RelayCertificates.IssueCa("test CA", Now);
        var other = RelayCertificates.IssueCa("other CA", Now);
        var server = RelayCertificates.IssueServer(ca, Names, Now);
        Assert.Equal("none yet", RelayCertificates.WhyIssue(null, ca.Certificate, Names, Now));
        Assert.Equal("not signed by the CA in force (or not valid now)", RelayCertificates.WhyIssue(server, other.Certificate, Names, Now));
        Assert.Equal("its names differ", RelayCertificates.WhyIssue(server, ca.Certificate, RelayCertificates.DnsNames("smtp.example.org", "mail-relay", "mail-relay"), Now));
        Assert.Equal("it does not parse", RelayCertificates.WhyIssue(new PemPair("garbage", "garbage"), ca.Certificate, Names, Now));
        Assert.False(RelayCertificates.IsUsableCa(new PemPair(ca.Certificate, other.Key), Now)); // the key does not match
        Assert.False(RelayCertificates.IsUsableCa(ca, Now.AddYears(10)));
        Assert.False(RelayCertificates.IsUsableCa(null, Now));
    }
}
