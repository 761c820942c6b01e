using k8s;
using k8s.Autorest;
using k8s.Models;
using MailRelay.Operator.Controller;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.Render;

/// <summary>
/// The live cluster's resources for <c>explain --kubeconfig</c>: one list of MailRoutes, RelayCredentials,
/// MailDomains and Namespaces, and a get of each Secret a RelayCredential references — what the operator's
/// caches hold, read once. A Secret that does not exist is absent, as for the operator.
/// </summary>
public static class LiveResources
{
    /// <summary>Reads the snapshot; throws <see cref="HttpOperationException"/> when the API server refuses.</summary>
    public static async Task<ClusterSnapshot> LoadAsync(IKubernetes client, IReadOnlySet<string> trustedNamespaces, CancellationToken ct)
    {
        var (routes, _) = await new CustomResourceListWatch<MailRoute>(client, "mailroutes").ListAsync(ct);
        var (credentials, _) = await new CustomResourceListWatch<RelayCredential>(client, "relaycredentials").ListAsync(ct);
        var (domains, _) = await new CustomResourceListWatch<MailDomain>(client, "maildomains").ListAsync(ct);
        var namespaces = await client.CoreV1.ListNamespaceAsync(cancellationToken: ct);
        var secrets = new List<object>();
        foreach (var (ns, name) in credentials.Select(c => (ResourceKey.Namespace(c), c.Spec.SecretRef.Name)).Where(k => k.Name.Length > 0).Distinct())
        {
            try
            {
                secrets.Add(await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: ct));
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                // does not exist: the credential is SecretNotFound, as the operator judges it
            }
        }

        return ResourceFiles.Snapshot(
            routes.Cast<object>().Concat(credentials).Concat(domains).Concat(namespaces.Items).Concat(secrets),
            trustedNamespaces,
            secretsElsewhere: false);
    }
}
