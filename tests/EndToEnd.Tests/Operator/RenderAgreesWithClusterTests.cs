using System.Text.RegularExpressions;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Operator;

/// <summary>
/// The same resource files rendered offline and applied to the real API server: render's config hash is
/// the one the operator puts on the relay workload (the API server adds creationTimestamp, uid, … which the
/// files lack), and <c>explain -f</c> answers as <c>explain --kubeconfig</c> does over the live cluster.
/// </summary>
[Collection(ControlPlaneCollection.Name)]
public sealed partial class RenderAgreesWithClusterTests : IAsyncLifetime
{
    private static int _counter;
    private readonly ControlPlane _cluster;
    private readonly KubeHelpers _kube;
    private readonly string _relayNs;
    private readonly string _shop;
    private readonly string _domain;
    private readonly string _dir;
    private OperatorProcess? _operator;

    public RenderAgreesWithClusterTests(ControlPlane cluster)
    {
        _cluster = cluster;
        _kube = new KubeHelpers(cluster);
        var n = Interlocked.Increment(ref _counter);
        _relayNs = $"agree-relay-{n}";
        _shop = $"agree-shop-{n}";
        _domain = $"agree-{n}.example";
        _dir = TestPaths.TempDir("agree");
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
        _operator?.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Render_gives_the_config_hash_the_operator_puts_on_the_workload_for_the_same_files()
    {
        await ApplyAsync(await WriteFilesAsync());
        _operator = await OperatorProcess.StartAsync(_cluster, _relayNs, trustedNamespaces: _relayNs);
        await Eventually.UntilAsync("the relay route programmed", () => _kube.ConditionAsync(_shop, "via-relay", "Programmed"), v => v?.Status == "True", context: () => _operator.Log);
        var programmed = await _kube.DeploymentHashAsync(_relayNs);
        Assert.Contains("created: ", await _kube.RoutesYamlAsync(_relayNs)); // the cluster's table has the timestamps

        var (code, stdout, stderr) = await RenderCommandTests.RunAsync("render", "-f", _dir, "--namespace", _relayNs, "--trusted-namespaces", _relayNs);
        Assert.True(code == 0, stderr + stdout);
        Assert.DoesNotContain("created: ", stdout); // the files have none
        Assert.Equal(programmed, ConfigHash().Match(stdout).Groups[1].Value);
    }

    [Fact]
    public async Task Explain_over_the_live_cluster_answers_as_explain_over_the_files_before_and_after_applying()
    {
        await WriteFilesAsync();
        string[] ask = ["--from", $"orders@{_domain}", "--to", "a@partner.example", "--to", "b@other.example", "--trusted-namespaces", _relayNs];
        var before = await RenderCommandTests.RunAsync(["explain", "--kubeconfig", _cluster.Kubeconfig, .. ask]);
        Assert.True(before.Code == 0, before.Stderr);
        Assert.Contains("route:     (default) -> direct (MX)", before.Stdout);
        Assert.DoesNotContain("via-relay", before.Stdout);

        await ApplyAsync(_dir);
        var files = await RenderCommandTests.RunAsync(["explain", "-f", _dir, .. ask]);
        var live = await RenderCommandTests.RunAsync(["explain", "--kubeconfig", _cluster.Kubeconfig, .. ask]);
        Assert.True(files.Code == 0, files.Stderr);
        Assert.True(live.Code == 0, live.Stderr);
        Assert.Contains($"route:     {_shop}/via-relay -> relay ", files.Stdout);
        Assert.Contains($"route:     {_shop}/partner-direct -> direct (MX)", files.Stdout);
        Assert.Contains("created unknown (no creationTimestamp)", files.Stdout);
        Assert.DoesNotContain("created unknown", live.Stdout);
        Assert.Equal(Created().Replace(files.Stdout, "created T"), Created().Replace(live.Stdout, "created T"));
    }

    [GeneratedRegex(@"^# config hash: (sha256:[0-9a-f]+)", RegexOptions.Multiline)]
    private static partial Regex ConfigHash();

    [GeneratedRegex(@"created [^,]+")]
    private static partial Regex Created();

    /// <summary>A MailDomain granting the shop its domain, a Secret, a RelayCredential and two MailRoutes, one file each.</summary>
    private async Task<string> WriteFilesAsync()
    {
        var files = new Dictionary<string, string>
        {
            ["maildomain.yaml"] = $"apiVersion: mailrelay.io/v1alpha1\nkind: MailDomain\nmetadata: {{name: {_domain}}}\nspec:\n  domain: {_domain}\n  namespaces: [{_shop}]\n",
            ["secret.yaml"] = $"apiVersion: v1\nkind: Secret\nmetadata: {{name: smtp, namespace: {_shop}}}\nstringData:\n  username: shop-user\n  password: shop-password-1\n",
            ["credential.yaml"] = $"apiVersion: mailrelay.io/v1alpha1\nkind: RelayCredential\nmetadata: {{name: smtp, namespace: {_shop}}}\nspec:\n  secretRef: {{name: smtp}}\n",
            ["routes.yaml"] = $"apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: via-relay, namespace: {_shop}}}\nspec:\n  senders: [{_domain}]\n  relay: {{host: smtp.upstream.example, port: 587, tls: Verify, credentialRef: {{name: smtp}}}}\n"
                + $"---\napiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: partner-direct, namespace: {_shop}}}\nspec:\n  senders: [{_domain}]\n  recipients: [partner.example]\n  priority: 10\n  direct: {{}}\n",
        };
        foreach (var (name, text) in files)
        {
            await File.WriteAllTextAsync(Path.Combine(_dir, name), text);
        }

        return _dir;
    }

    /// <summary>Creates every resource of the files in the cluster (as <c>kubectl apply -f</c> would).</summary>
    private async Task ApplyAsync(string dir)
    {
        await _kube.CreateSecretAsync(_shop, "smtp", new() { ["username"] = "shop-user", ["password"] = "shop-password-1" });
        foreach (var file in new[] { "maildomain.yaml", "credential.yaml", "routes.yaml" })
        {
            foreach (var doc in (await File.ReadAllTextAsync(Path.Combine(dir, file))).Split("---\n"))
            {
                await _kube.CreateAsync(doc);
            }
        }
    }
}
