using k8s;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Operator;

/// <summary>
/// Tenancy against the real API server: only the trusted namespaces (the operator's own here, the
/// default) may claim any sender; a tenant only what a MailDomain grants its namespace. The operator
/// runs without resync (3600 s), so every change below reaches it through its watches.
/// </summary>
[Collection(ControlPlaneCollection.Name)]
public sealed class TenancyTests : IAsyncLifetime
{
    private static int _counter;
    private readonly ControlPlane _cluster;
    private readonly KubeHelpers _kube;
    private readonly string _relayNs;
    private readonly string _tenantA;
    private readonly string _tenantB;
    private OperatorProcess? _operator;

    public TenancyTests(ControlPlane cluster)
    {
        _cluster = cluster;
        _kube = new KubeHelpers(cluster);
        var n = Interlocked.Increment(ref _counter);
        _relayNs = $"tenancy-relay-{n}";
        _tenantA = $"tenant-a-{n}";
        _tenantB = $"tenant-b-{n}";
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
    public async Task A_tenant_route_claiming_everything_is_NotPermitted_and_the_table_unchanged_the_same_in_a_trusted_namespace_is_programmed()
    {
        await _kube.CreateAsync(Route(_relayNs, "fallback", "senders: [\"<>\"]\n  priority: -1000\n  direct: {}"));
        await StartAsync();
        await Eventually.UntilAsync("the trusted route programmed", () => _kube.ConditionAsync(_relayNs, "fallback", "Programmed"), v => v?.Status == "True", context: () => Op.Log);
        var table = await _kube.RoutesYamlAsync(_relayNs);
        var hash = await _kube.DeploymentHashAsync(_relayNs);

        foreach (var (name, senders) in new[] { ("greedy", "[\"*\"]"), ("bounces", "[\"<>\"]"), ("other-team", "[example.com]") })
        {
            await _kube.CreateAsync(Route(_tenantB, name, $"senders: {senders}\n  priority: 1000\n  relay: {{host: smtp.tenant-b.example}}"));
        }

        await _kube.CreateMailDomainAsync("example.com", "example.com", _tenantA);
        foreach (var (name, pattern) in new[] { ("greedy", "'*'"), ("bounces", "'<>'"), ("other-team", "'example.com'") })
        {
            var accepted = await Eventually.UntilAsync($"{name} NotPermitted", () => _kube.ConditionAsync(_tenantB, name, "Accepted"), v => v?.Reason == "NotPermitted", context: () => Op.Log);
            Assert.Equal("False", accepted!.Value.Status);
            Assert.Contains($"sender {pattern}", accepted.Value.Message);
            var programmed = await _kube.ConditionAsync(_tenantB, name, "Programmed");
            Assert.Equal(("False", "NotAccepted"), (programmed!.Value.Status, programmed.Value.Reason));
            await Eventually.UntilAsync($"{name}'s Warning Event", () => EventReasonsAsync(_tenantB, name), v => v.Contains("NotPermitted"), context: () => Op.Log);
        }

        await Eventually.UntilAsync("MailDomain Ready", () => _kube.MailDomainReadyAsync("example.com"), v => v?.Status == "True", context: () => Op.Log);
        Assert.Equal(table, await _kube.RoutesYamlAsync(_relayNs));
        Assert.Equal(hash, await _kube.DeploymentHashAsync(_relayNs));

        // The same claim from the trusted namespace (the operator's own) is the platform team's to make.
        await _kube.CreateAsync(Route(_relayNs, "greedy", "senders: [\"*\"]\n  priority: 1000\n  relay: {host: smtp.platform.example}"));
        await Eventually.UntilAsync("the trusted '*' route programmed", () => _kube.ConditionAsync(_relayNs, "greedy", "Programmed"), v => v?.Status == "True", context: () => Op.Log);
        Assert.Contains($"name: {_relayNs}/greedy", await _kube.RoutesYamlAsync(_relayNs));
    }

    [Fact]
    public async Task A_granted_domain_is_programmed_for_its_owner_only_and_deleting_the_MailDomain_takes_it_out_within_seconds()
    {
        await _kube.CreateMailDomainAsync("example.com", "example.com", _tenantA);
        await _kube.CreateAsync(Route(_tenantA, "owner", "senders: [example.com, \"*.example.com\"]\n  relay: {host: smtp.tenant-a.example}"));
        await _kube.CreateAsync(Route(_tenantB, "intruder", "senders: [orders@example.com]\n  priority: 1000\n  relay: {host: smtp.tenant-b.example}"));
        await StartAsync();

        await Eventually.UntilAsync("the owner's route programmed", () => _kube.ConditionAsync(_tenantA, "owner", "Programmed"), v => v?.Status == "True", context: () => Op.Log);
        var intruder = await Eventually.UntilAsync("the intruder NotPermitted", () => _kube.ConditionAsync(_tenantB, "intruder", "Accepted"), v => v?.Reason == "NotPermitted", context: () => Op.Log);
        Assert.Contains("MailDomain example.com", intruder!.Value.Message);
        var table = await _kube.RoutesYamlAsync(_relayNs);
        Assert.Contains($"name: {_tenantA}/owner", table);
        Assert.DoesNotContain("intruder", table);
        Assert.Equal("True", (await _kube.MailDomainReadyAsync("example.com"))?.Status);

        await _kube.DeleteMailDomainAsync("example.com");
        var deletedAt = DateTime.UtcNow;
        await Eventually.UntilAsync("the owner's route NotPermitted", () => _kube.ConditionAsync(_tenantA, "owner", "Accepted"), v => v?.Reason == "NotPermitted", timeout: TimeSpan.FromSeconds(10), context: () => Op.Log);
        await Eventually.TrueAsync("the route out of the table", async () => !(await _kube.RoutesYamlAsync(_relayNs))!.Contains("owner", StringComparison.Ordinal), context: () => Op.Log);
        Assert.True(DateTime.UtcNow - deletedAt < TimeSpan.FromSeconds(10), $"took {DateTime.UtcNow - deletedAt}");
        Assert.Equal("False", (await _kube.ConditionAsync(_tenantA, "owner", "Programmed"))?.Status);
    }

    [Fact]
    public async Task A_namespaceSelector_grants_once_the_namespace_is_labelled_and_an_overlapping_MailDomain_is_reported()
    {
        await _kube.CreateAsync("apiVersion: mailrelay.io/v1alpha1\nkind: MailDomain\nmetadata: {name: labelled.example}\nspec:\n  domain: labelled.example\n  namespaceSelector:\n    matchLabels: {mail-team: a}\n");
        await _kube.CreateAsync(Route(_tenantA, "labelled", "senders: [\"*.labelled.example\"]\n  direct: {}"));
        await StartAsync();
        await Eventually.UntilAsync("NotPermitted before the label", () => _kube.ConditionAsync(_tenantA, "labelled", "Accepted"), v => v?.Reason == "NotPermitted", context: () => Op.Log);

        var ns = await _kube.Client.CoreV1.ReadNamespaceAsync(_tenantA);
        ns.Metadata.Labels ??= new Dictionary<string, string>();
        ns.Metadata.Labels["mail-team"] = "a";
        await _kube.Client.CoreV1.ReplaceNamespaceAsync(ns, _tenantA);
        await Eventually.UntilAsync("programmed once labelled (the Namespace watch)", () => _kube.ConditionAsync(_tenantA, "labelled", "Programmed"), v => v?.Status == "True", timeout: TimeSpan.FromSeconds(10), context: () => Op.Log);

        await Task.Delay(1100); // creationTimestamp has one-second resolution: the next MailDomain is newer
        await _kube.CreateMailDomainAsync("shop.labelled.example", "shop.labelled.example", _tenantB);
        var overlap = await Eventually.UntilAsync("Overlapping", () => _kube.MailDomainReadyAsync("shop.labelled.example"), v => v?.Reason == "Overlapping", context: () => Op.Log);
        Assert.Equal("False", overlap!.Value.Status);
        Assert.Contains("older MailDomain labelled.example", overlap.Value.Message);
        await Eventually.UntilAsync("the older one names it", () => _kube.MailDomainReadyAsync("labelled.example"), v => v?.Message.Contains("shop.labelled.example", StringComparison.Ordinal) == true, context: () => Op.Log);
        Assert.Equal("True", (await _kube.MailDomainReadyAsync("labelled.example"))?.Status);
        Assert.Equal("True", (await _kube.ConditionAsync(_tenantA, "labelled", "Programmed"))?.Status);
    }

    private async Task StartAsync() =>
        _operator = await OperatorProcess.StartAsync(_cluster, _relayNs, resyncSeconds: "3600");

    private static string Route(string ns, string name, string spec) =>
        $"apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  {spec}\n";

    private async Task<List<string>> EventReasonsAsync(string ns, string name)
    {
        var events = await _kube.Client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: $"involvedObject.name={name}");
        return events.Items.Select(e => e.Reason).ToList();
    }
}
