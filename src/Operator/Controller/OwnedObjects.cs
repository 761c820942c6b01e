using System.Text.Json;
using k8s;
using k8s.Models;
using MailRelay.Operator.Cli;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Render;

namespace MailRelay.Operator.Controller;

/// <summary>
/// What the operator keeps in its namespace: the ConfigMap, the Secret and the relay workload's
/// pod-template annotation <see cref="ConfigHashAnnotation"/> (a change rolls the relay).
/// </summary>
public sealed class OwnedObjects(IKubernetes client, OperatorOptions options)
{
    /// <summary>The pod-template annotation that rolls the relay.</summary>
    public const string ConfigHashAnnotation = "mailrelay.io/config-hash";

    /// <summary>The ConfigMap with <c>routes.yaml</c> (the table, or the manifest of its parts: <see cref="RoutesConfigMaps"/>).</summary>
    public OwnedObject<V1ConfigMap> ConfigMap(V1ConfigMap wanted)
    {
        var (name, ns) = (options.ConfigMapName, options.Namespace);
        var routesYaml = wanted.Data["routes.yaml"];
        return new(
            "ConfigMap",
            async ct => await client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: ct),
            existing => HasRoutes(existing, routesYaml),
            ct => client.CoreV1.CreateNamespacedConfigMapAsync(wanted, ns, cancellationToken: ct),
            (existing, ct) =>
            {
                existing.Data = wanted.Data;
                return client.CoreV1.ReplaceNamespacedConfigMapAsync(existing, name, ns, cancellationToken: ct);
            },
            $"created ConfigMap {ns}/{name}",
            $"updated ConfigMap {ns}/{name}");
    }

    /// <summary>The Secret with the resolved credentials.</summary>
    public OwnedObject<V1Secret> Secret(DesiredRelayConfig desired)
    {
        var (name, ns) = (options.SecretName, options.Namespace);
        var wanted = RenderOutput.Secret(desired, name, ns);
        return new(
            "Secret",
            async ct => await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: ct),
            existing => HasData(existing, desired.SecretData),
            ct => client.CoreV1.CreateNamespacedSecretAsync(wanted, ns, cancellationToken: ct),
            (existing, ct) =>
            {
                existing.Data = wanted.Data;
                existing.StringData = null;
                return client.CoreV1.ReplaceNamespacedSecretAsync(existing, name, ns, cancellationToken: ct);
            },
            $"created Secret {ns}/{name}",
            $"updated Secret {ns}/{name} (keys: {string.Join(", ", desired.SecretData.Keys)})");
    }

    /// <summary>The relay workload's pod template, annotated with the config hash; never created by the operator.</summary>
    public OwnedObject<V1PodTemplateSpec> WorkloadHash(string hash)
    {
        var (kind, name, ns) = (options.WorkloadKind, options.WorkloadName, options.Namespace);
        var statefulSet = kind == "statefulset";
        var patch = new V1Patch(
            JsonSerializer.Serialize(new { spec = new { template = new { metadata = new { annotations = new Dictionary<string, string> { [ConfigHashAnnotation] = hash } } } } }),
            V1Patch.PatchType.MergePatch);
        return new(
            kind,
            async ct => statefulSet
                ? (await client.AppsV1.ReadNamespacedStatefulSetAsync(name, ns, cancellationToken: ct)).Spec.Template
                : (await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: ct)).Spec.Template,
            template => HasHash(template, hash),
            Create: null,
            Update: (_, ct) => statefulSet
                ? client.AppsV1.PatchNamespacedStatefulSetAsync(patch, name, ns, cancellationToken: ct)
                : client.AppsV1.PatchNamespacedDeploymentAsync(patch, name, ns, cancellationToken: ct),
            Created: string.Empty,
            Updated: $"set {ConfigHashAnnotation}={hash} on {kind}/{name}: the relay rolls");
    }

    /// <summary>True when the ConfigMap holds exactly <c>routes.yaml</c> with this content.</summary>
    public static bool HasRoutes(V1ConfigMap existing, string routesYaml) =>
        existing.Data is { Count: 1 } data && data.TryGetValue("routes.yaml", out var routes) && routes == routesYaml;

    /// <summary>True when the Secret holds exactly these keys and values.</summary>
    public static bool HasData(V1Secret existing, IReadOnlyDictionary<string, byte[]> data) =>
        (existing.Data?.Count ?? 0) == data.Count
        && data.All(kv => existing.Data!.TryGetValue(kv.Key, out var v) && v.AsSpan().SequenceEqual(kv.Value));

    /// <summary>True when the pod template carries this config hash.</summary>
    public static bool HasHash(V1PodTemplateSpec template, string hash) =>
        template.Metadata?.Annotations?.TryGetValue(ConfigHashAnnotation, out var current) == true && current == hash;
}
