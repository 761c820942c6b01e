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
    public async Task The_Secrets_made_for_the_relay_are_owned_by_its_workload_and_collected_with_it()
    {
        await _kube.CreateMailDomainAsync(_domainA, _domainA, _tenantA);
        _operator = await OperatorProcess.StartAsync(_cluster, _relayNs, resyncSeconds: "3600");
        await Eventually.UntilAsync<ClientEntry?>("tenant A in the client table", async () => (await ClientTableAsync())?.Find(_tenantA), e => e is not null, context: () => Op.Log);
        var deployment = await _kube.Client.AppsV1.ReadNamespacedDeploymentAsync("mail-relay", _relayNs);
        string[] relaySecrets = ["mail-relay-ca", "mail-relay-clients", "mail-relay-tls"];
        foreach (var name in relaySecrets)
        {
            var secret = await _kube.Client.CoreV1.ReadNamespacedSecretAsync(name, _relayNs);
            var owner = Assert.Single(secret.Metadata.OwnerReferences ?? []);
            Assert.Equal(("apps/v1", "Deployment", "mail-relay", deployment.Metadata.Uid), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid));
        }

        // helm uninstall / kubectl delete of the relay: the garbage collector takes the operator's Secrets with it
        _operator.Dispose();
        _operator = null;
        await _kube.Client.AppsV1.DeleteNamespacedDeploymentAsync("mail-relay", _relayNs);
        await Eventually.UntilAsync(
            "the relay's Secrets collected",
            async () => (await _kube.Client.CoreV1.ListNamespacedSecretAsync(_relayNs)).Items.Select(s => s.Metadata.Name).Where(relaySecrets.Contains).ToList(),
            names => names.Count == 0,
            timeout: TimeSpan.FromSeconds(60));
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

    [Fact]
    public async Task The_relay_with_the_operators_Secrets_lets_a_namespace_send_as_its_own_domain_only()
    {
        using var peers = new PeerSet();
        var dir = TestPaths.TempDir("ids-relay");
        var sink = peers.Keep(await SmtpSink.StartAsync(Relay.RelayWorld.SinkIp));
        var dns = peers.Keep(await Dnsmasq.StartAsync([("example.net", "mx.example.net", 10)], [("mx.example.net", Relay.RelayWorld.SinkIp)]));
        await _kube.CreateMailDomainAsync(_domainA, _domainA, _tenantA);
        await _kube.CreateMailDomainAsync(_domainB, _domainB, _tenantB);
        await _kube.CreateAsync($"apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: own, namespace: {_tenantA}}}\nspec:\n  senders: [{_domainA}]\n  direct: {{}}\n");
        _operator = await OperatorProcess.StartAsync(_cluster, _relayNs, resyncSeconds: "3600");
        await Eventually.UntilAsync("A's route programmed", () => _kube.ConditionAsync(_tenantA, "own", "Programmed"), v => v?.Status == "True", context: () => Op.Log);
        await Eventually.UntilAsync<ClientTable?>("both identities in the client table", () => ClientTableAsync(), t => t?.Find(_tenantA) is not null && t.Find(_tenantB) is not null, context: () => Op.Log);
        var a = (await SmtpSecretAsync(_tenantA))!.Data.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetString(kv.Value));

        // Mounted as the kubelet does: routes, credentials, the client table, the relay's certificate.
        async Task<string> MountAsync(string name, string secretOrConfigMap, bool configMap = false)
        {
            var target = Path.Combine(dir, name);
            IDictionary<string, byte[]> data = configMap
                ? (await _kube.Client.CoreV1.ReadNamespacedConfigMapAsync(secretOrConfigMap, _relayNs)).Data.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value))
                : (await _kube.Client.CoreV1.ReadNamespacedSecretAsync(secretOrConfigMap, _relayNs)).Data ?? new Dictionary<string, byte[]>();
            KubeletVolume.Write(target, data);
            return target;
        }

        var routes = await MountAsync("routes", "mail-relay-routes", configMap: true);
        var credentials = await MountAsync("credentials", "mail-relay-credentials");
        var clients = await MountAsync("clients", "mail-relay-clients");
        var tls = await MountAsync("tls", "mail-relay-tls");
        var relay = peers.Keep(await RelayProcess.StartAsync(
            "--routes", Path.Combine(routes, "routes.yaml"), "--credentials", credentials, "--spool", Path.Combine(dir, "spool"),
            "--clients", Path.Combine(clients, "clients.yaml"), "--tls-cert", Path.Combine(tls, "tls.crt"), "--tls-key", Path.Combine(tls, "tls.key"),
            "--allowed-networks", "127.0.0.1/32", "--dns-server", dns.Endpoint, "--direct-port", RelayProcess.Arg(sink.Port),
            "--reload-interval", "200ms", "--retry-min", "1s", "--retry-max", "2s"));
        Task<(int ExitCode, string Transcript)> SendAsA(string from, string subject) =>
            Swaks.SendAsync(relay.SmtpPort, from, ["bob@example.net"], "--local-interface", "127.0.0.9", "--tls",
                "--auth", "PLAIN", "--auth-user", a["username"], "--auth-password", a["password"], "--header", "Subject: " + subject);

        var other = await SendAsA($"x@{_domainB}", "as-b");
        Assert.Matches(@"<~?\*{0,2} +553 5\.7\.1 sender <x@" + System.Text.RegularExpressions.Regex.Escape(_domainB) + "> is not owned by user " + _tenantA, other.Transcript);
        var own = await SendAsA($"x@{_domainA}", "as-a");
        Assert.True(own.ExitCode == 0, own.Transcript);
        await relay.WaitUntilAsync(() => sink.Messages().Any(m => m.Contains("as-a", StringComparison.Ordinal)), "A's message delivered");
        await relay.WaitUntilAsync(() => relay.Log.Contains($"via route {_tenantA}/own", StringComparison.Ordinal), "the delivery logged with A's route"); // logged after the sink's 250
        var anonymous = await Swaks.SendAsync(relay.SmtpPort, $"x@{_domainA}", ["bob@example.net"], "--header", "Subject: anonymous");
        Assert.Matches(@"<~?\*{0,2} +553 5\.7\.1 sender domain", anonymous.Transcript);
        Assert.DoesNotContain(sink.Messages(), m => m.Contains("as-b", StringComparison.Ordinal) || m.Contains("Subject: anonymous", StringComparison.Ordinal));

        // A's MailDomain deleted: the new table reaches the relay and A's credentials stop working.
        await _kube.DeleteMailDomainAsync(_domainA);
        await Eventually.UntilAsync<ClientTable?>("A out of the client table", () => ClientTableAsync(), t => t?.Find(_tenantA) is null, context: () => Op.Log);
        await MountAsync("clients", "mail-relay-clients");
        await relay.WaitUntilAsync(() => relay.Log.Split('\n').Count(l => l.Contains("Loaded client table", StringComparison.Ordinal)) >= 2, "the relay reloading its client table");
        var after = await SendAsA($"x@{_domainA}", "after-delete");
        Assert.Matches(@"<~?\*{0,2} +535", after.Transcript);
        Assert.DoesNotContain(a["password"], relay.Log + Op.Log);
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
