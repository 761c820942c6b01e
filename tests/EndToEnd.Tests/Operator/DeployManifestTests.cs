using k8s;
using k8s.Models;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Operator;

/// <summary>
/// The manifests in deploy/ against the real API server: they are accepted, and the operator
/// running as its ServiceAccount with exactly the RBAC of deploy/operator/rbac.yaml does its job
/// (leader election included) without a single Forbidden.
/// </summary>
[Collection(ControlPlaneCollection.Name)]
public sealed class DeployManifestTests(ControlPlane cluster) : IDisposable
{
    private readonly KubeHelpers _kube = new(cluster);
    private OperatorProcess? _operator;

    [Fact]
    public async Task The_operator_works_with_exactly_the_RBAC_it_ships()
    {
        await _kube.DeleteAllRoutesAndCredentialsAsync();
        await ApplyAsync(Path.Combine(TestPaths.RepoRoot, "deploy", "namespace.yaml"));
        await ApplyAsync(Path.Combine(TestPaths.RepoRoot, "deploy", "operator", "rbac.yaml"));
        await ApplyAsync(Path.Combine(TestPaths.RepoRoot, "deploy", "relay", "statefulset.yaml"));
        const string shop = "rbac-shop";
        await cluster.EnsureNamespaceAsync(shop);
        await _kube.CreateSecretAsync(shop, "ses-smtp", new() { ["username"] = "u", ["password"] = "p" });
        await _kube.CreateAsync($"apiVersion: mailrelay.io/v1alpha1\nkind: RelayCredential\nmetadata: {{name: ses, namespace: {shop}}}\nspec:\n  secretRef: {{name: ses-smtp}}\n");
        await _kube.CreateAsync($"apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: r, namespace: {shop}}}\nspec:\n  senders: [example.com]\n  relay: {{host: smtp.example.com, credentialRef: {{name: ses}}}}\n");
        await _kube.CreateAsync($"apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: broken, namespace: {shop}}}\nspec:\n  senders: [x.example]\n  relay: {{host: smtp.example.com, credentialRef: {{name: nope}}}}\n");
        // Tenancy with the shipped RBAC: MailDomains (cluster-scoped, status written), Namespaces watched.
        await _kube.CreateMailDomainAsync("rbac-example.com", "example.com", shop);
        await _kube.CreateMailDomainAsync("rbac-x.example", "x.example", shop);
        await Task.Delay(1100); // creationTimestamp has one-second resolution: the next one is newer
        await _kube.CreateMailDomainAsync("rbac-overlap", "sub.example.com", shop);
        await _kube.CreateAsync($"apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: greedy, namespace: {shop}}}\nspec:\n  senders: [\"*\"]\n  direct: {{}}\n");

        _operator = await OperatorProcess.StartAsync(cluster, "mail-relay", leaderElect: true, kubeconfig: cluster.OperatorKubeconfig, workload: "statefulset/mail-relay");

        await Eventually.UntilAsync("Programmed", () => _kube.ConditionAsync(shop, "r", "Programmed"), v => v?.Status == "True", context: () => _operator.Log);
        await Eventually.UntilAsync("an Event", () => _kube.Client.CoreV1.ListNamespacedEventAsync(shop, fieldSelector: "involvedObject.name=broken"), v => v.Items.Count > 0, context: () => _operator.Log);
        await Eventually.UntilAsync("MailDomain Ready", () => _kube.MailDomainReadyAsync("rbac-example.com"), v => v?.Status == "True", context: () => _operator.Log);
        await Eventually.UntilAsync("NotPermitted (only mail-relay is trusted by default)", () => _kube.ConditionAsync(shop, "greedy", "Accepted"), v => v?.Reason == "NotPermitted", context: () => _operator.Log);
        await Eventually.UntilAsync("the NotPermitted Event", () => _kube.Client.CoreV1.ListNamespacedEventAsync(shop, fieldSelector: "involvedObject.name=greedy"), v => v.Items.Any(e => e.Reason == "NotPermitted"), context: () => _operator.Log);
        await Eventually.UntilAsync("Overlapping", () => _kube.MailDomainReadyAsync("rbac-overlap"), v => v?.Reason == "Overlapping", context: () => _operator.Log);
        await Eventually.UntilAsync("the Overlapping Event (a cluster-scoped object's: in default)", () => _kube.Client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: "involvedObject.name=rbac-overlap"), v => v.Items.Any(e => e.Reason == "Overlapping"), context: () => _operator.Log);
        // Sending identities with the shipped RBAC: the Secret in the granted namespace, the client table in its own.
        await Eventually.UntilAsync("rbac-shop's mail-relay-smtp", () => _kube.Client.CoreV1.ListNamespacedSecretAsync(shop, fieldSelector: "metadata.name=mail-relay-smtp"), v => v.Items.Count == 1, context: () => _operator.Log);
        await Eventually.UntilAsync("the client table", () => _kube.Client.CoreV1.ListNamespacedSecretAsync("mail-relay", fieldSelector: "metadata.name=mail-relay-clients"), v => v.Items.Count == 1 && v.Items[0].Data["clients.yaml"].Length > 0, context: () => _operator.Log);
        await Eventually.UntilAsync("the relay's certificate", () => _kube.Client.CoreV1.ListNamespacedSecretAsync("mail-relay", fieldSelector: "metadata.name=mail-relay-tls"), v => v.Items.Count == 1, context: () => _operator.Log);
        var sts = await _kube.Client.AppsV1.ReadNamespacedStatefulSetAsync("mail-relay", "mail-relay");
        Assert.StartsWith("sha256:", sts.Spec.Template.Metadata.Annotations["mailrelay.io/config-hash"]);
        Assert.NotNull(await _kube.Client.CoordinationV1.ReadNamespacedLeaseAsync("mailrelay-operator", "mail-relay"));
        Assert.DoesNotContain("HTTP 403", _operator.Log); // not a bare "403": a port number may hold it
        Assert.DoesNotContain("Forbidden", _operator.Log);
    }

    public void Dispose() => _operator?.Dispose();

    private async Task ApplyAsync(string file)
    {
        foreach (var o in KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(file)))
        {
            try
            {
                switch (o)
                {
                    case V1Namespace ns: await _kube.Client.CoreV1.CreateNamespaceAsync(ns); break;
                    case V1ServiceAccount sa: await _kube.Client.CoreV1.CreateNamespacedServiceAccountAsync(sa, sa.Metadata.NamespaceProperty); break;
                    case V1ClusterRole cr: await _kube.Client.RbacAuthorizationV1.CreateClusterRoleAsync(cr); break;
                    case V1ClusterRoleBinding crb: await _kube.Client.RbacAuthorizationV1.CreateClusterRoleBindingAsync(crb); break;
                    case V1Role r: await _kube.Client.RbacAuthorizationV1.CreateNamespacedRoleAsync(r, r.Metadata.NamespaceProperty); break;
                    case V1RoleBinding rb: await _kube.Client.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(rb, rb.Metadata.NamespaceProperty); break;
                    case V1Service svc: await _kube.Client.CoreV1.CreateNamespacedServiceAsync(svc, svc.Metadata.NamespaceProperty); break;
                    case V1StatefulSet s: await _kube.Client.AppsV1.CreateNamespacedStatefulSetAsync(s, s.Metadata.NamespaceProperty); break;
                    default: throw new InvalidOperationException($"{file}: no apply for {o.GetType().Name}");
                }
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
            }
        }
    }
}
