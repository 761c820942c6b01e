using System.Security.Cryptography;
using System.Text.Json;
using k8s;
using k8s.Models;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Operator;

/// <summary>
/// Issue 11 (B7): a routing table over the 1 MiB a ConfigMap may hold. Before the split every
/// reconcile failed with HTTP 422, nothing else was programmed and only a log line said so.
/// Routes are made fat (100 senders of ~60 random characters each, ~7 KB of routes.yaml apiece) so
/// that a table over 1 MiB takes ~170 objects rather than 3,500. The routes live in the operator's
/// own namespace, which it trusts: no MailDomain needed.
/// </summary>
[Collection(ControlPlaneCollection.Name)]
public sealed class LargeTableTests(ControlPlane cluster) : IDisposable
{
    private const int FatRoutes = 170;
    private readonly KubeHelpers _kube = new(cluster);
    private readonly PeerSet _peers = new();
    private readonly string _dir = TestPaths.TempDir("large-table");

    [Fact]
    public async Task A_table_over_1_MiB_is_programmed_across_ConfigMaps_and_the_relay_loads_it_whole()
    {
        await _kube.DeleteAllRoutesAndCredentialsAsync();
        const string ns = "e2e-large";
        await cluster.EnsureNamespaceAsync(ns);
        await _kube.CreateRelayDeploymentAsync(ns);
        await CreateFatRoutesAsync(ns, FatRoutes);
        var op = _peers.Keep(await OperatorProcess.StartAsync(cluster, ns));

        var table = await Eventually.UntilAsync($"the ConfigMap(s) to hold all {FatRoutes} routes", () => _kube.RoutesTableAsync(ns),
            t => t is not null && Enumerable.Range(0, FatRoutes).All(i => t.Contains($"name: {ns}/fat-{i}\n", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), () => op.Log[^Math.Min(4000, op.Log.Length)..]);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(table!) > 1024 * 1024, "the table is over 1 MiB");
        await Eventually.UntilAsync("every route Programmed=True", () => ProgrammedCountAsync(ns), n => n == FatRoutes, TimeSpan.FromSeconds(60), () => op.Log[^Math.Min(4000, op.Log.Length)..]);
        var hash = await _kube.DeploymentHashAsync(ns);
        Assert.NotNull(hash);

        // The real relay, the whole table mounted as one projected volume (as the chart does), loads every route.
        var routesDir = Path.Combine(_dir, "routes");
        KubeletVolume.Write(routesDir, await _kube.RoutesVolumeAsync(ns));
        var relay = _peers.Keep(await RelayProcess.StartAsync(
            "--routes", Path.Combine(routesDir, "routes.yaml"), "--credentials", Path.Combine(_dir, "no-credentials"),
            "--spool", Path.Combine(_dir, "spool"), "--reload-interval", "200ms"));
        Assert.Contains($"{FatRoutes} route(s)", relay.Log, StringComparison.Ordinal);

        // The table shrinks back under 1 MiB: one ConfigMap again, the parts deleted, the relay follows.
        for (var i = 20; i < FatRoutes; i++)
        {
            await _kube.DeleteAsync(ns, $"fat-{i}");
        }

        var small = await Eventually.UntilAsync("the table of 20 routes", () => _kube.RoutesYamlAsync(ns), t => t?.Split("\n  - name: ").Length == 21, TimeSpan.FromSeconds(60), () => op.Log[^Math.Min(4000, op.Log.Length)..]);
        await Eventually.UntilAsync("the parts deleted", () => PartCountAsync(ns), n => n == 0, TimeSpan.FromSeconds(60), () => op.Log[^Math.Min(4000, op.Log.Length)..]);
        Assert.Contains("kind: RoutingTable\n", small, StringComparison.Ordinal);
        Assert.Contains($"name: {ns}/fat-19\n", small, StringComparison.Ordinal);
        KubeletVolume.Write(routesDir, await _kube.RoutesVolumeAsync(ns));
        await relay.WaitUntilAsync(() => relay.Log.Contains("20 route(s)", StringComparison.Ordinal), "the relay loading the smaller table");
    }

    [Fact]
    public async Task A_table_that_cannot_be_written_is_reported_on_the_routes_with_an_Event_and_the_last_good_one_stays()
    {
        await _kube.DeleteAllRoutesAndCredentialsAsync();
        const string ns = "e2e-large-refused";
        await cluster.EnsureNamespaceAsync(ns);
        await _kube.CreateRelayDeploymentAsync(ns);
        await _kube.CreateAsync($"apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: small, namespace: {ns}}}\nspec:\n  senders: [small.example]\n  direct: {{}}\n");

        // --routes-max-parts 0: the table must fit in the one ConfigMap (a relay whose pod template mounts no parts).
        var op = _peers.Keep(await OperatorProcess.StartAsync(cluster, ns, environment: new Dictionary<string, string> { ["MAILRELAY_ROUTES_MAX_PARTS"] = "0" }));
        await Eventually.UntilAsync("small Programmed=True", () => _kube.ConditionAsync(ns, "small", "Programmed"), v => v?.Status == "True", context: () => op.Log);
        var goodTable = await _kube.RoutesYamlAsync(ns);
        var goodHash = await _kube.DeploymentHashAsync(ns);

        // The fat routes arrive while the operator is down, so no table with only some of them is ever good.
        op.Kill();
        await CreateFatRoutesAsync(ns, FatRoutes);
        op = _peers.Keep(await OperatorProcess.StartAsync(cluster, ns, environment: new Dictionary<string, string> { ["MAILRELAY_ROUTES_MAX_PARTS"] = "0" }));
        var programmed = await Eventually.UntilAsync("fat-0 Programmed=False TableNotWritten", () => _kube.ConditionAsync(ns, "fat-0", "Programmed"),
            v => v is { Status: "False", Reason: "TableNotWritten" }, TimeSpan.FromSeconds(60), () => op.Log[^Math.Min(4000, op.Log.Length)..]);
        Assert.Contains("last good", programmed!.Value.Message, StringComparison.Ordinal);
        await Eventually.UntilAsync("the TableNotWritten Event", () => _kube.Client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: "involvedObject.name=fat-0"),
            v => v.Items.Any(e => e.Reason == "TableNotWritten" && e.Type == "Warning"), context: () => op.Log);

        // The last good table stays in force: the ConfigMap and the relay's hash unchanged, the old route still programmed.
        Assert.Equal(goodTable, await _kube.RoutesYamlAsync(ns));
        Assert.Equal(goodHash, await _kube.DeploymentHashAsync(ns));
        Assert.Equal("True", (await _kube.ConditionAsync(ns, "small", "Programmed"))?.Status);
        Assert.Equal(0, await PartCountAsync(ns));
    }

    public void Dispose() => _peers.Dispose();

    /// <summary>Fat routes (100 random senders each) created with bounded concurrency.</summary>
    private async Task CreateFatRoutesAsync(string ns, int count)
    {
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var senders = Enumerable.Range(0, 100).Select(s => $"s{s}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24))}.fat{i}.example");
            var route = new Dictionary<string, object>
            {
                ["apiVersion"] = "mailrelay.io/v1alpha1",
                ["kind"] = "MailRoute",
                ["metadata"] = new Dictionary<string, object> { ["name"] = $"fat-{i}", ["namespace"] = ns },
                ["spec"] = new Dictionary<string, object> { ["senders"] = senders.ToList(), ["direct"] = new Dictionary<string, object>() },
            };
            await _kube.Client.CustomObjects.CreateNamespacedCustomObjectAsync(JsonSerializer.SerializeToElement(route), KubeHelpers.Group, KubeHelpers.Version, ns, "mailroutes", cancellationToken: ct);
        });
    }

    private async Task<int> ProgrammedCountAsync(string ns)
    {
        var list = (JsonElement)await _kube.Client.CustomObjects.ListNamespacedCustomObjectAsync(KubeHelpers.Group, KubeHelpers.Version, ns, "mailroutes");
        return list.GetProperty("items").EnumerateArray().Count(item => item.TryGetProperty("status", out var s) && s.TryGetProperty("conditions", out var c)
            && c.EnumerateArray().Any(x => x.GetProperty("type").GetString() == "Programmed" && x.GetProperty("status").GetString() == "True"));
    }

    private async Task<int> PartCountAsync(string ns) =>
        (await _kube.Client.CoreV1.ListNamespacedConfigMapAsync(ns)).Items.Count(c => c.Metadata.Name.StartsWith("mail-relay-routes-", StringComparison.Ordinal));
}
