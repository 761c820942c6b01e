using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using k8s.Models;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Operator;

/// <summary>
/// A certificate Secret the user provides (<c>--relay-tls-source-secret</c>, here through its variable), as
/// cert-manager writes it, against the real API server: the operator issues nothing, copies it into the relay's
/// <c>mail-relay-tls</c> and its CA into each <c>mail-relay-smtp</c>; a renewal propagates; a source that goes away
/// leaves the last good certificate and a Warning Event. No resync (3600 s): every change comes through a watch.
/// </summary>
[Collection(ControlPlaneCollection.Name)]
public sealed class RelayTlsSourceOperatorTests : IAsyncLifetime
{
    private const string Source = "relay-cert";
    private static int _counter;
    private readonly ControlPlane _cluster;
    private readonly KubeHelpers _kube;
    private readonly string _relayNs;
    private readonly string _tenant;
    private readonly string _domain;
    private OperatorProcess? _operator;

    public RelayTlsSourceOperatorTests(ControlPlane cluster)
    {
        _cluster = cluster;
        _kube = new KubeHelpers(cluster);
        var n = Interlocked.Increment(ref _counter);
        _relayNs = $"tlssrc-relay-{n}";
        _tenant = $"tlssrc-a-{n}";
        _domain = $"tlssrc-a-{n}.example";
    }

    private OperatorProcess Op => _operator!;

    public async Task InitializeAsync()
    {
        await _cluster.EnsureNamespaceAsync(_relayNs);
        await _cluster.EnsureNamespaceAsync(_tenant);
        await _kube.CreateRelayDeploymentAsync(_relayNs);
    }

    public Task DisposeAsync()
    {
        _operator?.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task The_users_certificate_Secret_is_served_and_its_CA_given_to_the_apps_and_renewals_propagate()
    {
        var dir = TestPaths.TempDir("tls-source");
        var host = $"mail-relay.{_relayNs}.svc";
        await _kube.CreateMailDomainAsync(_domain, _domain, _tenant);
        _operator = await OperatorProcess.StartAsync(_cluster, _relayNs, resyncSeconds: "3600",
            environment: new Dictionary<string, string> { ["MAILRELAY_RELAY_TLS_SOURCE_SECRET"] = Source });

        // No source yet: a Warning Event on it, nothing issued.
        await Eventually.UntilAsync("the NotReady Event", () => WarningsAsync(), w => w.Any(e => e.Reason == "RelayTlsSourceNotReady" && e.Message.Contains("does not exist", StringComparison.Ordinal)), context: () => Op.Log);
        Assert.Null(await SecretAsync(_relayNs, "mail-relay-tls"));
        Assert.Null(await SecretAsync(_relayNs, "mail-relay-ca"));

        // cert-manager writes it: tls.crt, tls.key, ca.crt.
        var first = new TestCertificates(dir, "user-ca-1");
        var (crt1, key1) = first.Issue("relay-1", [], [host]);
        var ca1 = File.ReadAllText(first.CaFile);
        await _kube.Client.CoreV1.CreateNamespacedSecretAsync(TlsSecret(File.ReadAllText(crt1), File.ReadAllText(key1), ca1), _relayNs);
        var tls = await Eventually.UntilAsync("mail-relay-tls holds the source's certificate", () => SecretAsync(_relayNs, "mail-relay-tls"), s => s is not null && Text(s, "tls.crt") == File.ReadAllText(crt1), context: () => Op.Log);
        Assert.Equal("kubernetes.io/tls", tls!.Type);
        Assert.Equal(File.ReadAllText(key1), Text(tls, "tls.key"));
        Assert.Equal(ca1, Text(tls, "ca.crt"));
        await Eventually.UntilAsync("mail-relay-smtp's ca.crt is the user's CA", () => SecretAsync(_tenant, "mail-relay-smtp"), s => s is not null && Text(s, "ca.crt") == ca1, context: () => Op.Log);
        Assert.Null(await SecretAsync(_relayNs, "mail-relay-ca")); // the operator issues nothing

        // Renewed from another CA, the chain in tls.crt and no ca.crt: the new pair and the issuer chain propagate.
        var second = new TestCertificates(dir, "user-ca-2");
        var (crt2, key2) = second.Issue("relay-2", [], [host]);
        var ca2 = File.ReadAllText(second.CaFile);
        var source = await _kube.Client.CoreV1.ReadNamespacedSecretAsync(Source, _relayNs);
        source.Data = new Dictionary<string, byte[]>
        {
            ["tls.crt"] = Encoding.UTF8.GetBytes(File.ReadAllText(crt2) + "\n" + ca2 + "\n"),
            ["tls.key"] = Encoding.UTF8.GetBytes(File.ReadAllText(key2)),
        };
        await _kube.Client.CoreV1.ReplaceNamespacedSecretAsync(source, Source, _relayNs);
        tls = await Eventually.UntilAsync("the renewal in mail-relay-tls", () => SecretAsync(_relayNs, "mail-relay-tls"), s => s is not null && Text(s, "tls.key") == File.ReadAllText(key2), context: () => Op.Log);
        using (var served = X509Certificate2.CreateFromPem(Text(tls!, "tls.crt"), Text(tls!, "tls.key")))
        {
            Assert.Contains(host, served.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        }

        var smtp = await Eventually.UntilAsync("the new CA in mail-relay-smtp", () => SecretAsync(_tenant, "mail-relay-smtp"), s => s is not null && Thumbprint(Text(s, "ca.crt")) == Thumbprint(ca2), context: () => Op.Log);
        using (var leaf = X509Certificate2.CreateFromPem(File.ReadAllText(crt2)))
        using (var chain = new X509Chain())
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(Text(smtp!, "ca.crt")));
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            Assert.True(chain.Build(leaf), "the served certificate chains to the apps' ca.crt");
        }

        // The source deleted: the last good certificate stays, a Warning Event says so.
        await _kube.Client.CoreV1.DeleteNamespacedSecretAsync(Source, _relayNs);
        await Eventually.UntilAsync("a second NotReady Event", () => WarningsAsync(), w => w.Count(e => e.Reason == "RelayTlsSourceNotReady") >= 2, context: () => Op.Log);
        Assert.Equal(File.ReadAllText(key2), Text((await SecretAsync(_relayNs, "mail-relay-tls"))!, "tls.key"));
        Assert.Equal(Thumbprint(ca2), Thumbprint(Text((await SecretAsync(_tenant, "mail-relay-smtp"))!, "ca.crt")));

        foreach (var key in new[] { key1, key2 })
        {
            Assert.DoesNotContain(File.ReadAllText(key).Split('\n')[1], Op.Log);
        }

        await _kube.DeleteMailDomainAsync(_domain);
    }

    private V1Secret TlsSecret(string crt, string key, string ca) => new()
    {
        Metadata = new V1ObjectMeta { Name = Source, NamespaceProperty = _relayNs },
        Type = "kubernetes.io/tls",
        Data = new Dictionary<string, byte[]> { ["tls.crt"] = Encoding.UTF8.GetBytes(crt), ["tls.key"] = Encoding.UTF8.GetBytes(key), ["ca.crt"] = Encoding.UTF8.GetBytes(ca) },
    };

    private static string Text(V1Secret secret, string key) => Encoding.UTF8.GetString(secret.Data[key]);

    private static string Thumbprint(string pem)
    {
        using var cert = X509Certificate2.CreateFromPem(pem);
        return cert.Thumbprint;
    }

    private async Task<List<(string Reason, string Message)>> WarningsAsync()
    {
        var events = await _kube.Client.CoreV1.ListNamespacedEventAsync(_relayNs, fieldSelector: $"involvedObject.name={Source}");
        return events.Items.Where(e => e.Type == "Warning" && e.InvolvedObject.Kind == "Secret").Select(e => (e.Reason, e.Message)).ToList();
    }

    private async Task<V1Secret?> SecretAsync(string ns, string name)
    {
        try
        {
            return await _kube.Client.CoreV1.ReadNamespacedSecretAsync(name, ns);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
