using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MailRelay.Operator.Cli;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;
using MailRelay.Operator.Render;
using Microsoft.Extensions.Logging;

namespace MailRelay.Operator.Controller;

/// <summary>
/// Level-triggered reconcile of the whole desired state: build it from the caches, then write
/// only what differs: the ConfigMap, the Secret, the workload's config-hash annotation, and each
/// resource's status. Events are recorded when a resource's condition turns False or changes reason.
/// </summary>
public sealed class Reconciler(IKubernetes client, OperatorOptions options, ILogger logger)
{
    /// <summary>The pod-template annotation that rolls the relay.</summary>
    public const string ConfigHashAnnotation = "mailrelay.io/config-hash";

    /// <summary>Programmed=False when the relay workload does not exist (an addition to API.md's reasons).</summary>
    public const string WorkloadNotFoundReason = "RelayWorkloadNotFound";

    /// <summary>Reconciles once.</summary>
    public async Task<ReconcileResult> ReconcileAsync(ClusterSnapshot snapshot, CancellationToken ct)
    {
        var desired = DesiredStateBuilder.Build(snapshot);
        var writes = 0;
        writes += await ApplyConfigMapAsync(desired, ct);
        writes += await ApplySecretAsync(desired, ct);
        var (workloadFound, workloadWrites) = await ApplyWorkloadHashAsync(desired.ConfigHash, ct);
        writes += workloadWrites;
        writes += await WriteCredentialStatusesAsync(snapshot.Credentials, desired.Credentials, ct);
        writes += await WriteRouteStatusesAsync(snapshot.Routes, desired, workloadFound, ct);

        OperatorMetrics.Resources.WithLabels("MailRoute", "true").Set(desired.Routes.Count(v => v.Ok));
        OperatorMetrics.Resources.WithLabels("MailRoute", "false").Set(desired.Routes.Count(v => !v.Ok));
        OperatorMetrics.Resources.WithLabels("RelayCredential", "true").Set(desired.Credentials.Count(v => v.Ok));
        OperatorMetrics.Resources.WithLabels("RelayCredential", "false").Set(desired.Credentials.Count(v => !v.Ok));
        return workloadFound ? ReconcileResult.Done(writes) : ReconcileResult.Requeue(TimeSpan.FromSeconds(30), writes);
    }

    private async Task<int> ApplyConfigMapAsync(DesiredRelayConfig desired, CancellationToken ct)
    {
        var wanted = RenderOutput.ConfigMap(desired, options.ConfigMapName, options.Namespace);
        var existing = await GetOrNullAsync(() => client.CoreV1.ReadNamespacedConfigMapAsync(options.ConfigMapName, options.Namespace, cancellationToken: ct));
        if (existing is null)
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(wanted, options.Namespace, cancellationToken: ct);
            return Wrote("ConfigMap", $"created ConfigMap {options.Namespace}/{options.ConfigMapName}");
        }

        if (existing.Data is { } data && data.Count == 1 && data.TryGetValue("routes.yaml", out var routes) && routes == desired.RoutesYaml)
        {
            return 0;
        }

        existing.Data = wanted.Data;
        await client.CoreV1.ReplaceNamespacedConfigMapAsync(existing, options.ConfigMapName, options.Namespace, cancellationToken: ct);
        return Wrote("ConfigMap", $"updated ConfigMap {options.Namespace}/{options.ConfigMapName}");
    }

    private async Task<int> ApplySecretAsync(DesiredRelayConfig desired, CancellationToken ct)
    {
        var wanted = RenderOutput.Secret(desired, options.SecretName, options.Namespace);
        var existing = await GetOrNullAsync(() => client.CoreV1.ReadNamespacedSecretAsync(options.SecretName, options.Namespace, cancellationToken: ct));
        if (existing is null)
        {
            await client.CoreV1.CreateNamespacedSecretAsync(wanted, options.Namespace, cancellationToken: ct);
            return Wrote("Secret", $"created Secret {options.Namespace}/{options.SecretName}");
        }

        var same = (existing.Data?.Count ?? 0) == desired.SecretData.Count
            && desired.SecretData.All(kv => existing.Data!.TryGetValue(kv.Key, out var v) && v.AsSpan().SequenceEqual(kv.Value));
        if (same)
        {
            return 0;
        }

        existing.Data = wanted.Data;
        existing.StringData = null;
        await client.CoreV1.ReplaceNamespacedSecretAsync(existing, options.SecretName, options.Namespace, cancellationToken: ct);
        return Wrote("Secret", $"updated Secret {options.Namespace}/{options.SecretName} (keys: {string.Join(", ", desired.SecretData.Keys)})");
    }

    private async Task<(bool Found, int Writes)> ApplyWorkloadHashAsync(string hash, CancellationToken ct)
    {
        var statefulSet = options.WorkloadKind == "statefulset";
        V1PodTemplateSpec? template = statefulSet
            ? (await GetOrNullAsync(() => client.AppsV1.ReadNamespacedStatefulSetAsync(options.WorkloadName, options.Namespace, cancellationToken: ct)))?.Spec.Template
            : (await GetOrNullAsync(() => client.AppsV1.ReadNamespacedDeploymentAsync(options.WorkloadName, options.Namespace, cancellationToken: ct)))?.Spec.Template;
        if (template is null)
        {
            logger.LogWarning("Relay workload {Kind}/{Name} not found in {Namespace}; routes cannot be programmed until it exists", options.WorkloadKind, options.WorkloadName, options.Namespace);
            return (false, 0);
        }

        if (template.Metadata?.Annotations?.TryGetValue(ConfigHashAnnotation, out var current) == true && current == hash)
        {
            return (true, 0);
        }

        var patch = new V1Patch(
            JsonSerializer.Serialize(new { spec = new { template = new { metadata = new { annotations = new Dictionary<string, string> { [ConfigHashAnnotation] = hash } } } } }),
            V1Patch.PatchType.MergePatch);
        if (statefulSet)
        {
            await client.AppsV1.PatchNamespacedStatefulSetAsync(patch, options.WorkloadName, options.Namespace, cancellationToken: ct);
        }
        else
        {
            await client.AppsV1.PatchNamespacedDeploymentAsync(patch, options.WorkloadName, options.Namespace, cancellationToken: ct);
        }

        return (true, Wrote(options.WorkloadKind, $"set {ConfigHashAnnotation}={hash} on {options.WorkloadKind}/{options.WorkloadName}: the relay rolls"));
    }

    private async Task<int> WriteCredentialStatusesAsync(IReadOnlyList<RelayCredential> credentials, IReadOnlyList<Verdict> verdicts, CancellationToken ct)
    {
        var writes = 0;
        var now = DateTime.UtcNow;
        foreach (var credential in credentials)
        {
            var verdict = verdicts.First(v => v.Namespace == (credential.Metadata.NamespaceProperty ?? "default") && v.Name == credential.Metadata.Name);
            var conditions = new List<V1Condition>
            {
                Conditions.Make(credential.Status.Conditions, ConditionTypes.Ready, verdict.Ok, verdict.Reason, verdict.Message, verdict.Generation, now),
            };
            if (credential.Status.ObservedGeneration == verdict.Generation && Conditions.Same(conditions, credential.Status.Conditions))
            {
                continue;
            }

            await RecordIfWorseAsync(credential, "RelayCredential", Conditions.Find(credential.Status.Conditions, ConditionTypes.Ready), verdict, ct);
            await PatchStatusAsync("relaycredentials", credential.Metadata, new Dictionary<string, object?> { ["observedGeneration"] = verdict.Generation, ["conditions"] = conditions }, ct);
            writes += Wrote("status", $"RelayCredential {verdict.Key}: Ready={verdict.Ok} {verdict.Reason}");
        }

        return writes;
    }

    private async Task<int> WriteRouteStatusesAsync(IReadOnlyList<MailRoute> routes, DesiredRelayConfig desired, bool workloadFound, CancellationToken ct)
    {
        var writes = 0;
        var now = DateTime.UtcNow;
        foreach (var route in routes)
        {
            var verdict = desired.Routes.First(v => v.Namespace == (route.Metadata.NamespaceProperty ?? "default") && v.Name == route.Metadata.Name);
            var existing = route.Status.Conditions;
            var programmed = verdict.Ok && workloadFound;
            var conditions = new List<V1Condition>
            {
                Conditions.Make(existing, ConditionTypes.Accepted, verdict.Ok, verdict.Reason, verdict.Message, verdict.Generation, now),
                Conditions.Make(existing, ConditionTypes.Programmed, programmed,
                    programmed ? ConditionReasons.Programmed : verdict.Ok ? WorkloadNotFoundReason : ConditionReasons.NotAccepted,
                    programmed ? $"in relay config {desired.ConfigHash}, carried by {options.WorkloadKind}/{options.WorkloadName}"
                        : verdict.Ok ? $"{options.WorkloadKind}/{options.WorkloadName} does not exist in {options.Namespace}" : "the route is not accepted",
                    verdict.Generation, now),
            };
            var hash = programmed ? desired.ConfigHash : null;
            if (route.Status.ObservedGeneration == verdict.Generation && route.Status.ConfigHash == hash
                && route.Status.Action == verdict.Action && Conditions.Same(conditions, existing))
            {
                continue;
            }

            await RecordIfWorseAsync(route, "MailRoute", Conditions.Find(existing, ConditionTypes.Accepted), verdict, ct);
            await PatchStatusAsync("mailroutes", route.Metadata, new Dictionary<string, object?>
            {
                ["observedGeneration"] = verdict.Generation,
                ["configHash"] = hash, // null removes it (merge patch)
                ["action"] = verdict.Action,
                ["conditions"] = conditions,
            }, ct);
            writes += Wrote("status", $"MailRoute {verdict.Key}: Accepted={verdict.Ok} {verdict.Reason}, Programmed={programmed}");
        }

        return writes;
    }

    private async Task PatchStatusAsync(string plural, V1ObjectMeta metadata, Dictionary<string, object?> status, CancellationToken ct)
    {
        var body = new V1Patch(KubernetesJson.Serialize(new Dictionary<string, object> { ["status"] = status }), V1Patch.PatchType.MergePatch);
        try
        {
            await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(body, Api.Group, Api.Version, metadata.NamespaceProperty, plural, metadata.Name, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // deleted since the snapshot: the delete event brings the next reconcile
        }
    }

    /// <summary>A Warning Event when a condition turns False or changes its False reason: what a user must act on.</summary>
    private async Task RecordIfWorseAsync(IKubernetesObject<V1ObjectMeta> subject, string kind, V1Condition? previous, Verdict verdict, CancellationToken ct)
    {
        if (verdict.Ok || (previous is { Status: "False" } && previous.Reason == verdict.Reason))
        {
            return;
        }

        var now = DateTime.UtcNow;
        var ev = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = subject.Metadata.Name + ".", NamespaceProperty = subject.Metadata.NamespaceProperty },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = Api.GroupVersion,
                Kind = kind,
                Name = subject.Metadata.Name,
                NamespaceProperty = subject.Metadata.NamespaceProperty,
                Uid = subject.Metadata.Uid,
                ResourceVersion = subject.Metadata.ResourceVersion,
            },
            Reason = verdict.Reason,
            Message = verdict.Message,
            Type = "Warning",
            Source = new V1EventSource { Component = "mailrelay-operator" },
            ReportingComponent = "mailrelay-operator",
            ReportingInstance = options.Identity,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        try
        {
            await client.CoreV1.CreateNamespacedEventAsync(ev, subject.Metadata.NamespaceProperty, cancellationToken: ct);
            Wrote("Event", $"Warning {verdict.Reason} on {kind} {verdict.Key}: {verdict.Message}");
        }
        catch (HttpOperationException e)
        {
            logger.LogWarning("Could not record an Event on {Kind} {Key}: HTTP {Status}", kind, verdict.Key, (int)e.Response.StatusCode);
        }
    }

    private int Wrote(string kind, string what)
    {
        OperatorMetrics.Writes.WithLabels(kind).Inc();
        logger.LogInformation("{What}", what);
        return 1;
    }

    private static async Task<T?> GetOrNullAsync<T>(Func<Task<T>> get)
        where T : class
    {
        try
        {
            return await get();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
