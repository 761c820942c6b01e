using System.Text;
using k8s;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Operator;

/// <summary>
/// The operator against a real API server and controller manager (Kubernetes 1.20 from Debian's source).
/// These tests are about routes, credentials and the controller, not tenancy: the operator trusts the
/// test's namespaces (--trusted-namespaces), so no MailDomain is needed (tenancy: TenancyTests).
/// </summary>
[Collection(ControlPlaneCollection.Name)]
public sealed class OperatorTests : IAsyncLifetime
{
    private static int _counter;
    private readonly ControlPlane _cluster;
    private readonly KubeHelpers _kube;
    private readonly string _relayNs;
    private readonly string _shop;
    private readonly List<OperatorProcess> _operators = [];

    public OperatorTests(ControlPlane cluster)
    {
        _cluster = cluster;
        _kube = new KubeHelpers(cluster);
        var n = Interlocked.Increment(ref _counter);
        _relayNs = $"relay-{n}";
        _shop = $"shop-{n}";
    }

    public async Task InitializeAsync()
    {
        await _kube.DeleteAllRoutesAndCredentialsAsync();
        await _cluster.EnsureNamespaceAsync(_relayNs);
        await _cluster.EnsureNamespaceAsync(_shop);
        await _kube.CreateRelayDeploymentAsync(_relayNs);
    }

    public Task DisposeAsync()
    {
        foreach (var op in _operators)
        {
            op.Dispose();
        }

        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("senders: []\n  direct: {}", "spec.senders")]
    [InlineData("senders: [\"a b.com\"]\n  direct: {}", "spec.senders")]
    [InlineData("senders: [a.com]\n  relay: {host: h, tls: Bogus}", "spec.relay.tls")]
    [InlineData("senders: [a.com]\n  relay: {host: h, port: 70000}", "spec.relay.port")]
    [InlineData("senders: [a.com]\n  priority: 5000\n  direct: {}", "spec.priority")]
    [InlineData("senders: [a.com]\n  direct: {}\n  reject: {}", "spec")]
    [InlineData("senders: [a.com]", "spec")]
    [InlineData("senders: [a.com]\n  recipients: [\"<>\"]\n  direct: {}", "spec.recipients")]
    public async Task The_API_server_rejects_what_the_schema_can_check(string spec, string field)
    {
        var e = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => _kube.CreateAsync(Route("bad", spec)));
        Assert.Equal(422, (int)e.Response.StatusCode);
        Assert.Contains(field, e.Response.Content);
    }

    [Fact]
    public async Task An_SES_route_with_its_credential_is_programmed_into_the_ConfigMap_Secret_and_workload()
    {
        await _kube.CreateSecretAsync(_shop, "ses-smtp", new() { ["username"] = "AKIASES", ["password"] = "ses-password-1" });
        await _kube.CreateAsync(Credential("ses", "ses-smtp"));
        await _kube.CreateAsync(Route("example-com-via-ses", "senders: [example.com, \"*.example.com\"]\n  relay: {host: email-smtp.eu-west-1.amazonaws.com, credentialRef: {name: ses}}"));
        var op = await StartOperatorAsync();

        await Eventually.UntilAsync("Programmed=True", () => _kube.ConditionAsync(_shop, "example-com-via-ses", "Programmed"), v => v?.Status == "True", context: () => op.Log);

        var routes = await _kube.RoutesYamlAsync(_relayNs);
        Assert.Contains($"name: {_shop}/example-com-via-ses", routes);
        Assert.Contains("host: email-smtp.eu-west-1.amazonaws.com", routes);
        Assert.Contains($"credential: {_shop}.ses", routes);
        var secret = await _kube.RelaySecretAsync(_relayNs);
        Assert.Equal("AKIASES", Encoding.UTF8.GetString(secret![$"{_shop}.ses.username"]));
        Assert.Equal("ses-password-1", Encoding.UTF8.GetString(secret[$"{_shop}.ses.password"]));
        var accepted = await _kube.ConditionAsync(_shop, "example-com-via-ses", "Accepted");
        Assert.Equal(("True", "Accepted", 1L), (accepted!.Value.Status, accepted.Value.Reason, accepted.Value.Generation));
        Assert.Equal("True", (await _kube.ConditionAsync(_shop, "ses", "Ready", "relaycredentials"))?.Status);
        var hash = await _kube.DeploymentHashAsync(_relayNs);
        Assert.StartsWith("sha256:", hash);
        var status = (await _kube.GetAsync(_shop, "example-com-via-ses"))!.Value.GetProperty("status");
        Assert.Equal(hash, status.GetProperty("configHash").GetString());
        Assert.DoesNotContain("ses-password-1", op.Log);
        Assert.Equal(200, await op.StatusAsync("/readyz"));
        Assert.Equal(200, await op.StatusAsync("/healthz"));
    }

    [Fact]
    public async Task Editing_a_route_changes_the_hash_and_the_controller_manager_rolls_a_new_ReplicaSet()
    {
        await _kube.CreateAsync(Route("direct", "senders: [example.org]\n  direct: {}"));
        var op = await StartOperatorAsync();
        await Eventually.UntilAsync<string?>("the first hash", () => _kube.DeploymentHashAsync(_relayNs), v => v is not null, context: () => op.Log);
        var first = await _kube.DeploymentHashAsync(_relayNs);
        await Eventually.UntilAsync("the first ReplicaSet", () => ReplicaSetHashesAsync(), v => v.Contains(first!), context: () => op.Log);

        await _kube.PatchSpecAsync(_shop, "direct", new { senders = new[] { "example.org", "*.example.org" } });

        await Eventually.UntilAsync("a new hash", () => _kube.DeploymentHashAsync(_relayNs), v => v != first, context: () => op.Log);
        var second = await _kube.DeploymentHashAsync(_relayNs);
        await Eventually.UntilAsync("a new ReplicaSet from kube-controller-manager", () => ReplicaSetHashesAsync(), v => v.Contains(second!), context: () => op.Log);
        Assert.Contains("*.example.org", await _kube.RoutesYamlAsync(_relayNs));
        var accepted = await _kube.ConditionAsync(_shop, "direct", "Accepted");
        Assert.Equal(2L, accepted!.Value.Generation);
    }

    [Fact]
    public async Task An_unchanged_resync_makes_zero_write_calls()
    {
        await _kube.CreateSecretAsync(_shop, "ses-smtp", new() { ["username"] = "u", ["password"] = "p" });
        await _kube.CreateAsync(Credential("ses", "ses-smtp"));
        await _kube.CreateAsync(Route("r1", "senders: [example.com]\n  relay: {host: smtp.example.com, credentialRef: {name: ses}}"));
        await _kube.CreateAsync(Route("r2", "senders: [bad.example]\n  relay: {host: smtp.example.com, credentialRef: {name: missing}}"));
        var op = await StartOperatorAsync();
        await Eventually.UntilAsync("steady state", () => _kube.ConditionAsync(_shop, "r1", "Programmed"), v => v?.Status == "True", context: () => op.Log);
        await Task.Delay(1500);

        var writes = await op.MetricAsync("mailrelay_operator_writes_total");
        var reconciles = await op.MetricAsync("mailrelay_operator_reconciles_total", "success");
        var nonGet = await NonGetCallsAsync(op);
        await Task.Delay(TimeSpan.FromSeconds(4)); // four resync periods

        Assert.True(await op.MetricAsync("mailrelay_operator_reconciles_total", "success") >= reconciles + 3, "resyncs did not run");
        Assert.Equal(writes, await op.MetricAsync("mailrelay_operator_writes_total"));
        Assert.Equal(nonGet, await NonGetCallsAsync(op));
    }

    [Fact]
    public async Task A_missing_credential_or_Secret_holds_the_route_with_an_Event_and_recovers_when_created()
    {
        await _kube.CreateAsync(Route("needs-cred", "senders: [example.com]\n  relay: {host: smtp.example.com, credentialRef: {name: ses}}"));
        var op = await StartOperatorAsync();
        await Eventually.UntilAsync("CredentialNotFound", () => _kube.ConditionAsync(_shop, "needs-cred", "Accepted"), v => v?.Reason == "CredentialNotFound", context: () => op.Log);
        await Eventually.UntilAsync("Programmed=True Held", () => _kube.ConditionAsync(_shop, "needs-cred", "Programmed"), v => v is { Status: "True", Reason: "Held" }, context: () => op.Log);
        await Eventually.UntilAsync("a Warning Event", () => EventReasonsAsync("needs-cred"), v => v.Contains("CredentialNotFound"), context: () => op.Log);
        Assert.Matches($@"name: {_shop}/needs-cred\n(.*\n)*?    hold:\n      reason: .*CredentialNotFound: RelayCredential {_shop}/ses does not exist", await _kube.RoutesYamlAsync(_relayNs));

        await _kube.CreateAsync(Credential("ses", "ses-smtp"));
        await Eventually.UntilAsync("SecretNotFound", () => _kube.ConditionAsync(_shop, "ses", "Ready", "relaycredentials"), v => v?.Reason == "SecretNotFound", context: () => op.Log);
        // The route's status is written after the credential's in the same reconcile: wait for it too.
        var stillMissing = await Eventually.UntilAsync("the route naming the missing Secret", () => _kube.ConditionAsync(_shop, "needs-cred", "Accepted"), v => v?.Message.Contains("SecretNotFound", StringComparison.Ordinal) == true, context: () => op.Log);
        Assert.Equal("CredentialNotFound", stillMissing?.Reason);
        await Eventually.UntilAsync("the hold reason naming the Secret", () => _kube.RoutesYamlAsync(_relayNs), v => v?.Contains("SecretNotFound", StringComparison.Ordinal) == true, context: () => op.Log);

        await _kube.CreateSecretAsync(_shop, "ses-smtp", new() { ["username"] = "u" });
        await Eventually.UntilAsync("CredentialNotReady (password key missing)", () => _kube.ConditionAsync(_shop, "needs-cred", "Accepted"), v => v?.Reason == "CredentialNotReady", context: () => op.Log);
        Assert.Equal("KeyMissing", (await _kube.ConditionAsync(_shop, "ses", "Ready", "relaycredentials"))?.Reason);

        var secret = await _kube.Client.CoreV1.ReadNamespacedSecretAsync("ses-smtp", _shop);
        secret.Data["password"] = "p"u8.ToArray();
        await _kube.Client.CoreV1.ReplaceNamespacedSecretAsync(secret, "ses-smtp", _shop);
        await Eventually.UntilAsync("recovery", () => _kube.ConditionAsync(_shop, "needs-cred", "Programmed"), v => v is { Status: "True", Reason: "Programmed" }, context: () => op.Log);
        Assert.Equal("True", (await _kube.ConditionAsync(_shop, "needs-cred", "Accepted"))?.Status);
        var routes = await _kube.RoutesYamlAsync(_relayNs);
        Assert.Contains($"credential: {_shop}.ses", routes);
        Assert.DoesNotContain("hold:", routes);
    }

    [Fact]
    public async Task A_credential_over_unverified_TLS_is_programmed_with_a_Warning_Event_once()
    {
        await _kube.CreateSecretAsync(_shop, "ses-smtp", new() { ["username"] = "u", ["password"] = "p" });
        await _kube.CreateAsync(Credential("ses", "ses-smtp"));
        await _kube.CreateAsync(Route("encrypt-only", "senders: [legacy.example]\n  relay: {host: smtp.legacy.example, tls: Encrypt, credentialRef: {name: ses}, maxRecipients: 20}"));
        var op = await StartOperatorAsync();

        await Eventually.UntilAsync("Programmed", () => _kube.ConditionAsync(_shop, "encrypt-only", "Programmed"), v => v?.Status == "True", context: () => op.Log);
        var reasons = await Eventually.UntilAsync("the Warning Event", () => EventReasonsAsync("encrypt-only"), v => v.Contains("InsecureCredential"), context: () => op.Log);
        Assert.Contains("warning: tls Encrypt sends the credential to any TLS peer", (await _kube.ConditionAsync(_shop, "encrypt-only", "Accepted"))!.Value.Message);
        Assert.Contains("maxRecipients: 20", await _kube.RoutesYamlAsync(_relayNs));

        await Task.Delay(TimeSpan.FromSeconds(3)); // several resyncs: the warning is not repeated
        Assert.Single(await EventReasonsAsync("encrypt-only"), r => r == "InsecureCredential");
        Assert.Single(reasons, r => r == "InsecureCredential");
    }

    [Fact]
    public async Task Rotating_the_source_Secret_updates_the_relay_Secret_and_rolls_the_relay()
    {
        await _kube.CreateSecretAsync(_shop, "ses-smtp", new() { ["username"] = "u", ["password"] = "old-password" });
        await _kube.CreateAsync(Credential("ses", "ses-smtp"));
        await _kube.CreateAsync(Route("r", "senders: [example.com]\n  relay: {host: smtp.example.com, credentialRef: {name: ses}}"));
        var op = await StartOperatorAsync();
        await Eventually.UntilAsync("programmed", () => _kube.ConditionAsync(_shop, "r", "Programmed"), v => v?.Status == "True", context: () => op.Log);
        var before = await _kube.DeploymentHashAsync(_relayNs);

        var secret = await _kube.Client.CoreV1.ReadNamespacedSecretAsync("ses-smtp", _shop);
        secret.Data["password"] = "new-password"u8.ToArray();
        await _kube.Client.CoreV1.ReplaceNamespacedSecretAsync(secret, "ses-smtp", _shop);

        await Eventually.TrueAsync("the rotated password", async () => Encoding.UTF8.GetString((await _kube.RelaySecretAsync(_relayNs))![$"{_shop}.ses.password"]) == "new-password", context: () => op.Log);
        await Eventually.UntilAsync("a roll", () => _kube.DeploymentHashAsync(_relayNs), v => v != before, context: () => op.Log);
        Assert.DoesNotContain("new-password", op.Log);
    }

    [Fact]
    public async Task A_credential_in_another_namespace_is_refused()
    {
        var web = _shop + "-web";
        await _cluster.EnsureNamespaceAsync(web);
        await _kube.CreateSecretAsync(_shop, "ses-smtp", new() { ["username"] = "u", ["password"] = "p" });
        await _kube.CreateAsync(Credential("ses", "ses-smtp"));
        await _kube.CreateAsync(Route("borrower", "senders: [web.example]\n  relay: {host: smtp.example.com, credentialRef: {name: ses}}", web));
        var op = await StartOperatorAsync();

        await Eventually.UntilAsync("CredentialNotFound", () => _kube.ConditionAsync(web, "borrower", "Accepted"), v => v?.Reason == "CredentialNotFound", context: () => op.Log);
        Assert.Contains("own namespace", (await _kube.ConditionAsync(web, "borrower", "Accepted"))!.Value.Message);
        await Eventually.UntilAsync("Programmed=True Held", () => _kube.ConditionAsync(web, "borrower", "Programmed"), v => v?.Reason == "Held", context: () => op.Log);
        var routes = await _kube.RoutesYamlAsync(_relayNs);
        Assert.Matches($@"name: {web}/borrower\n(.*\n)*?    hold:", routes); // held (fail closed), never sent with another namespace's credential
        Assert.DoesNotContain($"credential: {_shop}.ses", routes);
        Assert.Empty(await _kube.RelaySecretAsync(_relayNs) ?? new Dictionary<string, byte[]>());
    }

    [Fact]
    public async Task The_newer_of_two_conflicting_routes_is_Conflicted_and_deleting_routes_removes_them()
    {
        await _kube.CreateAsync(Route("older", "senders: [example.com]\n  direct: {}"));
        await Task.Delay(1100); // creationTimestamp has one-second resolution
        await _kube.CreateAsync(Route("newer", "senders: [example.com]\n  reject: {message: no}"));
        var op = await StartOperatorAsync();

        await Eventually.UntilAsync("Conflicted", () => _kube.ConditionAsync(_shop, "newer", "Accepted"), v => v?.Reason == "Conflicted", context: () => op.Log);
        Assert.Contains($"{_shop}/older", (await _kube.ConditionAsync(_shop, "newer", "Accepted"))!.Value.Message);
        // Statuses are written one by one: the older route's may follow the newer's.
        await Eventually.UntilAsync("the older route Accepted", () => _kube.ConditionAsync(_shop, "older", "Accepted"), v => v?.Status == "True", context: () => op.Log);

        await _kube.DeleteAsync(_shop, "older");
        await Eventually.UntilAsync("the newer route taking over", () => _kube.ConditionAsync(_shop, "newer", "Accepted"), v => v?.Status == "True", context: () => op.Log);
        await _kube.DeleteAsync(_shop, "newer");
        await Eventually.TrueAsync("an empty table", async () => !(await _kube.RoutesYamlAsync(_relayNs))!.Contains("name:", StringComparison.Ordinal), context: () => op.Log);
    }

    [Fact]
    public async Task The_operator_recovers_when_the_API_server_restarts_mid_run()
    {
        await _kube.CreateAsync(Route("before", "senders: [before.example]\n  direct: {}"));
        var op = await StartOperatorAsync();
        await Eventually.UntilAsync("the first table", () => _kube.RoutesYamlAsync(_relayNs), v => v?.Contains("before.example", StringComparison.Ordinal) == true, context: () => op.Log);

        _cluster.StopApiServer();
        await Task.Delay(TimeSpan.FromSeconds(3));
        await _cluster.StartApiServerAsync();
        await _kube.CreateAsync(Route("after", "senders: [after.example]\n  direct: {}"));

        await Eventually.UntilAsync("the route created after the restart", () => _kube.RoutesYamlAsync(_relayNs), v => v?.Contains("after.example", StringComparison.Ordinal) == true, timeout: TimeSpan.FromSeconds(60), context: () => op.Log);
        Assert.True(op.Running);
    }

    [Fact]
    public async Task With_two_instances_exactly_one_writes_and_the_other_takes_over_when_it_dies()
    {
        await _kube.CreateAsync(Route("ha", "senders: [ha.example]\n  direct: {}"));
        var a = await StartOperatorAsync(leaderElect: true);
        var b = await StartOperatorAsync(leaderElect: true);
        await Eventually.UntilAsync("the first table", () => _kube.RoutesYamlAsync(_relayNs), v => v is { } y && y.Contains("ha.example", StringComparison.Ordinal), context: () => a.Log + b.Log);
        await Eventually.TrueAsync("one leader", async () => await a.MetricAsync("mailrelay_operator_leader") + await b.MetricAsync("mailrelay_operator_leader") == 1, context: () => a.Log + b.Log);

        var (leader, standby) = await a.MetricAsync("mailrelay_operator_leader") == 1 ? (a, b) : (b, a);
        Assert.True(await leader.MetricAsync("mailrelay_operator_writes_total") > 0);
        Assert.Equal(0, await standby.MetricAsync("mailrelay_operator_writes_total"));

        leader.Kill();
        var killedAt = DateTime.UtcNow;
        await _kube.CreateAsync(Route("after-failover", "senders: [failover.example]\n  direct: {}"));
        await Eventually.UntilAsync("the standby taking over", () => _kube.RoutesYamlAsync(_relayNs), v => v?.Contains("failover.example", StringComparison.Ordinal) == true, timeout: TimeSpan.FromSeconds(40), context: () => standby.Log);
        Assert.True(DateTime.UtcNow - killedAt < TimeSpan.FromSeconds(25), $"took {DateTime.UtcNow - killedAt}");
        Assert.Equal(1, await standby.MetricAsync("mailrelay_operator_leader"));
    }

    [Fact]
    public async Task Watches_that_time_out_are_restarted_and_still_deliver_events()
    {
        var op = await OperatorProcess.StartAsync(_cluster, _relayNs, watchTimeoutSeconds: "2", resyncSeconds: "3600", trustedNamespaces: TrustedNamespaces);
        _operators.Add(op);
        await Eventually.UntilAsync<string?>("the first table", () => _kube.RoutesYamlAsync(_relayNs), v => v is not null, context: () => op.Log);
        await Task.Delay(TimeSpan.FromSeconds(7)); // several server-side watch timeouts

        await _kube.CreateAsync(Route("late", "senders: [late.example]\n  direct: {}"));

        await Eventually.UntilAsync("the event after the restarts (no resync)", () => _kube.RoutesYamlAsync(_relayNs), v => v?.Contains("late.example", StringComparison.Ordinal) == true, timeout: TimeSpan.FromSeconds(20), context: () => op.Log);
    }

    [Fact]
    public async Task SIGTERM_stops_the_operator_promptly()
    {
        var op = await StartOperatorAsync(leaderElect: true);
        await Eventually.UntilAsync("leadership", () => op.MetricAsync("mailrelay_operator_leader"), v => v == 1, context: () => op.Log);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(op.Stop(TimeSpan.FromSeconds(15)), "no exit on SIGTERM:\n" + op.Log);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15));
    }

    private async Task<OperatorProcess> StartOperatorAsync(bool leaderElect = false)
    {
        var op = await OperatorProcess.StartAsync(_cluster, _relayNs, leaderElect, trustedNamespaces: TrustedNamespaces);
        _operators.Add(op);
        return op;
    }

    private string TrustedNamespaces => $"{_relayNs},{_shop},{_shop}-web";

    private string Route(string name, string spec, string? ns = null) =>
        $"apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: {name}, namespace: {ns ?? _shop}}}\nspec:\n  {spec}\n";

    private string Credential(string name, string secret) =>
        $"apiVersion: mailrelay.io/v1alpha1\nkind: RelayCredential\nmetadata: {{name: {name}, namespace: {_shop}}}\nspec:\n  secretRef: {{name: {secret}}}\n";

    private async Task<List<string>> ReplicaSetHashesAsync()
    {
        var sets = await _kube.Client.AppsV1.ListNamespacedReplicaSetAsync(_relayNs);
        return sets.Items.Select(rs => (rs.Spec.Template.Metadata.Annotations is { } a && a.TryGetValue("mailrelay.io/config-hash", out var h) ? h : string.Empty)).ToList();
    }

    private async Task<List<string>> EventReasonsAsync(string name)
    {
        var events = await _kube.Client.CoreV1.ListNamespacedEventAsync(_shop, fieldSelector: $"involvedObject.name={name}");
        return events.Items.Select(e => e.Reason).ToList();
    }

    private static async Task<double> NonGetCallsAsync(OperatorProcess op) =>
        await op.MetricAsync("mailrelay_operator_api_calls_total", "POST") + await op.MetricAsync("mailrelay_operator_api_calls_total", "PUT")
        + await op.MetricAsync("mailrelay_operator_api_calls_total", "PATCH") + await op.MetricAsync("mailrelay_operator_api_calls_total", "DELETE");
}
