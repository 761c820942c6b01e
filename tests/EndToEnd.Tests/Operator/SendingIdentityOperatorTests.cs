using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using k8s.Models;
using MailRelay.Contracts.Clients;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Operator;

/// <summary>
/// Sending identities against the real API server: the operator keeps a <c>mail-relay-smtp</c>
/// Secret in every namespace a MailDomain grants (password stable until the Secret is deleted) and
/// the relay's client table (<c>mail-relay-clients</c>, salted hashes only); a MailDomain deleted
/// takes both away. The operator runs without resync (3600 s): every change comes through a watch.
/// </summary>
[Collection(ControlPlaneCollection.Name)]
public sealed class SendingIdentityOperatorTests : IAsyncLifetime
{
    private static int _counter;
    private readonly ControlPlane _cluster;
    private readonly KubeHelpers _kube;
    private readonly string _relayNs;
    private readonly string _tenantA;
    private readonly string _tenantB;
    private readonly string _domainA;
    private readonly string _domainB;
    private OperatorProcess? _operator;

    public SendingIdentityOperatorTests(ControlPlane cluster)
    {
        _cluster = cluster;
        _kube = new KubeHelpers(cluster);
        var n = Interlocked.Increment(ref _counter);
        _relayNs = $"ids-relay-{n}";
        _tenantA = $"ids-a-{n}";
        _tenantB = $"ids-b-{n}";
        _domainA = $"ids-a-{n}.example";
        _domainB = $"ids-b-{n}.example";
    }

    private OperatorProcess Op => _operator!;

    public async Task InitializeAsync()
    {
        await _kube.DeleteAllRoutesAndCredentialsAsync();
        await _cluster.EnsureNamespaceAsync(_relayNs);
        await _cluster.EnsureNamespaceAsync(_tenantA);
        await _cluster.EnsureNamespaceAsync(_tenantB);
        await _kube.CreateRelayDeploymentAsync(_relayNs);
    }

    public Task DisposeAsync()
    {
        _operator?.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_granted_namespace_gets_its_SMTP_Secret_with_a_stable_password_and_loses_it_with_its_MailDomain()
    {
        await _kube.CreateMailDomainAsync(_domainA, _domainA, _tenantA);
        _operator = await OperatorProcess.StartAsync(_cluster, _relayNs, resyncSeconds: "3600");

        var secret = await Eventually.UntilAsync<V1Secret?>("tenant A's mail-relay-smtp", () => SmtpSecretAsync(_tenantA), s => s is not null, context: () => Op.Log);
        var data = secret!.Data.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetString(kv.Value));
        Assert.Equal(_tenantA, data["username"]);
        Assert.Equal($"mail-relay.{_relayNs}.svc", data["host"]);
        Assert.Equal("25", data["port"]);
        var password = data["password"];

        // ca.crt: the operator's CA, which issued the relay's certificate (Secret mail-relay-tls) for that host
        var ca = await _kube.Client.CoreV1.ReadNamespacedSecretAsync("mail-relay-ca", _relayNs);
        Assert.Equal(Encoding.UTF8.GetString(ca.Data["ca.crt"]), data["ca.crt"]);
        var tls = await _kube.Client.CoreV1.ReadNamespacedSecretAsync("mail-relay-tls", _relayNs);
        Assert.Equal("kubernetes.io/tls", tls.Type);
        using (var served = X509Certificate2.CreateFromPem(Encoding.UTF8.GetString(tls.Data["tls.crt"]), Encoding.UTF8.GetString(tls.Data["tls.key"])))
        using (var chain = new X509Chain())
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(data["ca.crt"]));
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            Assert.True(chain.Build(served), "the relay's certificate chains to ca.crt");
            Assert.Contains(data["host"], served.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        }

        Assert.DoesNotContain(Encoding.UTF8.GetString(ca.Data["ca.key"]).Split('\n')[1], Op.Log);
        Assert.True(password.Length >= 32, "a long random password");
        var entry = await Eventually.UntilAsync<ClientEntry?>("tenant A in the client table", async () => (await ClientTableAsync())?.Find(_tenantA), e => e is not null, context: () => Op.Log);
        Assert.True(PasswordHash.Verify(entry!.PasswordHash, password));
        Assert.Equal([new DomainGrant(_domainA, true)], entry.Domains);
        Assert.False(entry.Trusted);
        Assert.DoesNotContain(password, await ClientsYamlAsync());

        // Another grant: B gets its own; A's password and hash do not change.
        await _kube.CreateMailDomainAsync(_domainB, _domainB, _tenantB);
        await Eventually.UntilAsync<V1Secret?>("tenant B's mail-relay-smtp", () => SmtpSecretAsync(_tenantB), s => s is not null, context: () => Op.Log);
        var table = await Eventually.UntilAsync<ClientTable?>("tenant B in the client table", () => ClientTableAsync(), t => t?.Find(_tenantB) is not null, context: () => Op.Log);
        Assert.Equal(password, Encoding.UTF8.GetString((await SmtpSecretAsync(_tenantA))!.Data["password"]));
        Assert.Equal(entry.PasswordHash, table!.Find(_tenantA)!.PasswordHash);
        Assert.Contains(table.Covered, g => g.Domain == _domainB);

        // Deleting the Secret is the way to a new password.
        await _kube.Client.CoreV1.DeleteNamespacedSecretAsync("mail-relay-smtp", _tenantA);
        var renewed = await Eventually.UntilAsync<V1Secret?>("a new Secret", () => SmtpSecretAsync(_tenantA), s => s is not null && Encoding.UTF8.GetString(s.Data["password"]) != password, context: () => Op.Log);
        var newPassword = Encoding.UTF8.GetString(renewed!.Data["password"]);
        await Eventually.UntilAsync<ClientTable?>("the new hash", () => ClientTableAsync(), t => t?.Find(_tenantA) is { } e && PasswordHash.Verify(e.PasswordHash, newPassword), context: () => Op.Log);

        // The MailDomain deleted: the Secret goes, the identity leaves the table, the domain is covered no more.
        await _kube.DeleteMailDomainAsync(_domainA);
        await Eventually.UntilAsync<V1Secret?>("tenant A's Secret deleted", () => SmtpSecretAsync(_tenantA), s => s is null, timeout: TimeSpan.FromSeconds(10), context: () => Op.Log);
        var after = await Eventually.UntilAsync<ClientTable?>("tenant A out of the client table", () => ClientTableAsync(), t => t?.Find(_tenantA) is null, context: () => Op.Log);
        Assert.DoesNotContain(after!.Covered, g => g.Domain == _domainA);
        Assert.NotNull(after.Find(_tenantB));

        Assert.DoesNotContain(password, Op.Log);
        Assert.DoesNotContain(newPassword, Op.Log);
        await _kube.DeleteMailDomainAsync(_domainB);
    }

    private async Task<V1Secret?> SmtpSecretAsync(string ns)
    {
        try
        {
            return await _kube.Client.CoreV1.ReadNamespacedSecretAsync("mail-relay-smtp", ns);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<string?> ClientsYamlAsync()
    {
        try
        {
            var secret = await _kube.Client.CoreV1.ReadNamespacedSecretAsync("mail-relay-clients", _relayNs);
            return secret.Data?.TryGetValue("clients.yaml", out var bytes) == true ? Encoding.UTF8.GetString(bytes) : null;
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<ClientTable?> ClientTableAsync() => await ClientsYamlAsync() is { } yaml ? ClientTableYaml.Parse(yaml) : null;
}
