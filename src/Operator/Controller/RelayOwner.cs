using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MailRelay.Operator.Cli;

namespace MailRelay.Operator.Controller;

/// <summary>
/// The relay workload as the owner of the Secrets the operator makes for it in its own namespace (its CA, the
/// relay's certificate, the client table): Kubernetes' garbage collector deletes them with the workload
/// (<c>helm uninstall</c>, <c>kubectl delete -f deploy/relay/</c>), so nothing the operator made is orphaned.
/// Not a controller reference and not blocking deletion: the workload's own controller is untouched.
/// </summary>
public static class RelayOwner
{
    /// <summary>The owner reference to the relay workload, or null while it does not exist (the Secrets then get it on a later reconcile).</summary>
    public static async Task<V1OwnerReference?> ReadAsync(IKubernetes client, OperatorOptions options, CancellationToken ct)
    {
        try
        {
            var meta = options.WorkloadKind == "statefulset"
                ? (await client.AppsV1.ReadNamespacedStatefulSetAsync(options.WorkloadName, options.Namespace, cancellationToken: ct)).Metadata
                : (await client.AppsV1.ReadNamespacedDeploymentAsync(options.WorkloadName, options.Namespace, cancellationToken: ct)).Metadata;
            return new V1OwnerReference
            {
                ApiVersion = "apps/v1",
                Kind = options.WorkloadKind == "statefulset" ? "StatefulSet" : "Deployment",
                Name = meta.Name,
                Uid = meta.Uid,
            };
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>True when <paramref name="meta"/> names <paramref name="owner"/> (or there is no owner to name).</summary>
    public static bool IsOwned(V1ObjectMeta meta, V1OwnerReference? owner) =>
        owner is null || meta.OwnerReferences?.Any(r => r.Uid == owner.Uid) == true;

    /// <summary>Adds <paramref name="owner"/> to <paramref name="meta"/>'s owner references, replacing a reference to an earlier workload of the same kind and name.</summary>
    public static void Own(V1ObjectMeta meta, V1OwnerReference? owner)
    {
        if (owner is null || IsOwned(meta, owner))
        {
            return;
        }

        meta.OwnerReferences = [.. (meta.OwnerReferences ?? []).Where(r => !(r.Kind == owner.Kind && r.Name == owner.Name)), owner];
    }
}
