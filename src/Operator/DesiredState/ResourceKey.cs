using k8s;
using k8s.Models;

namespace MailRelay.Operator.DesiredState;

/// <summary>How resources are keyed: <c>namespace/name</c>, a missing namespace read as <c>default</c>.</summary>
public static class ResourceKey
{
    /// <summary>The resource's namespace, <c>default</c> when unset.</summary>
    public static string Namespace(IKubernetesObject<V1ObjectMeta> o) => o.Metadata.NamespaceProperty ?? "default";

    /// <summary><c>namespace/name</c>.</summary>
    public static string Of(IKubernetesObject<V1ObjectMeta> o) => Namespace(o) + "/" + o.Metadata.Name;
}
