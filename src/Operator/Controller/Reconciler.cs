using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MailRelay.Operator.Cli;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;
using Microsoft.Extensions.Logging;

namespace MailRelay.Operator.Controller;

/// <summary>
/// Level-triggered reconcile of the whole desired state: build it from the caches, then write
/// only what differs: the ConfigMap, the Secret, the workload's config-hash annotation, each
/// resource's status (decided by <see cref="StatusPolicy"/>), then the relay's certificate
/// (<see cref="CertificateWriter"/>) and the sending identities (<see cref="IdentityWriter"/>). Events are recorded when a
/// resource's condition turns False or changes reason.
/// </summary>
public sealed partial class Reconciler(IKubernetes client, OperatorOptions options, ILogger logger)
{
    private static readonly TimeSpan WorkloadRetry = TimeSpan.FromSeconds(30);

    private readonly OwnedObjects _owned = new(client, options);
    private readonly WriteIfChanged _writer = new(logger);
    private IdentityWriter? _identities;
    private HashSet<TlsWarning> _tlsWarnings = [];

    // Warnings recorded for a resource's generation: the cache may still show the old status on the
    // next reconcile, and a warning is said once, not once per status write.
    private readonly HashSet<(string Uid, long Generation, string Reason)> _warned = [];

    public async Task<ReconcileResult> ReconcileAsync(ClusterSnapshot snapshot, CancellationToken ct)
    {
        var desired = DesiredStateBuilder.Build(snapshot);
        await _writer.ApplyAsync(_owned.ConfigMap(desired), ct);
        await _writer.ApplyAsync(_owned.Secret(desired), ct);
        var workloadExists = await _writer.ApplyAsync(_owned.WorkloadHash(desired.ConfigHash), ct) != Applied.NotFound;
        if (!workloadExists)
        {
            logger.LogWarning("Relay workload {Kind}/{Name} not found in {Namespace}; routes cannot be programmed until it exists", options.WorkloadKind, options.WorkloadName, options.Namespace);
        }

        var statuses = StatusPolicy.For(desired, new RelayWorkload(options.WorkloadKind, options.WorkloadName, options.Namespace, workloadExists));
        await WriteCredentialStatusesAsync(snapshot.Credentials, statuses.Credentials, ct);
        await WriteRouteStatusesAsync(snapshot.Routes, statuses.Routes, ct);
        await WriteDomainStatusesAsync(snapshot.Domains, desired.Domains, ct);

        // Last, so that a failure here (retried with backoff) never holds up routing and statuses.
        // The Secrets made for the relay in this namespace go with its workload (garbage collection).
        var owner = workloadExists ? await RelayOwner.ReadAsync(client, options, ct) : null;
        _identities ??= new IdentityWriter(client, options, _writer, logger);
        var tls = await new CertificateWriter(client, options, _writer, logger).ApplyAsync(owner, ct);
        await RecordTlsWarningsAsync(tls.Warnings, ct);
        await _identities.ApplyAsync(SendingIdentities.Plan(snapshot), snapshot.IdentitySecrets, tls.CaCertificate, owner, ct);

        OperatorMetrics.Resources.WithLabels("MailRoute", "true").Set(desired.Routes.Count(v => v.Ok));
        OperatorMetrics.Resources.WithLabels("MailRoute", "false").Set(desired.Routes.Count(v => !v.Ok));
        OperatorMetrics.Resources.WithLabels("RelayCredential", "true").Set(desired.Credentials.Count(v => v.Ok));
        OperatorMetrics.Resources.WithLabels("RelayCredential", "false").Set(desired.Credentials.Count(v => !v.Ok));
        return workloadExists && tls.SourceReady ? ReconcileResult.Done : ReconcileResult.Requeue(WorkloadRetry);
    }

    /// <summary>A Warning Event on the TLS source Secret for each warning not already in force at the last reconcile (said once, again after it cleared).</summary>
    private async Task RecordTlsWarningsAsync(IReadOnlyList<TlsWarning> warnings, CancellationToken ct)
    {
        var said = _tlsWarnings;
        _tlsWarnings = warnings.ToHashSet();
        foreach (var warning in warnings.Where(w => !said.Contains(w)))
        {
            logger.LogWarning("{Reason}: {Message}", warning.Reason, warning.Message);
            var subject = new V1Secret { Metadata = new V1ObjectMeta { Name = options.RelayTlsSourceSecret, NamespaceProperty = options.Namespace } };
            await RecordWarningAsync(subject, "Secret", $"{options.Namespace}/{options.RelayTlsSourceSecret}", warning.Reason, warning.Message, ct, apiVersion: "v1");
        }
    }

    private async Task WriteCredentialStatusesAsync(IReadOnlyList<RelayCredential> credentials, IReadOnlyDictionary<string, DesiredCredentialStatus> statuses, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        foreach (var credential in credentials)
        {
            var wanted = statuses[ResourceKey.Of(credential)];
            var existing = credential.Status.Conditions;
            var conditions = new List<V1Condition> { Conditions.Make(existing, wanted.Ready, wanted.Generation, now) };
            if (credential.Status.ObservedGeneration == wanted.Generation && Conditions.Same(conditions, existing))
            {
                continue;
            }

            await RecordIfWorseAsync(credential, "RelayCredential", wanted.Key, Conditions.Find(existing, ConditionTypes.Ready), wanted.Ready, ct);
            await PatchStatusAsync("relaycredentials", credential.Metadata, new Dictionary<string, object?> { ["observedGeneration"] = wanted.Generation, ["conditions"] = conditions }, ct);
            _writer.Wrote("status", $"RelayCredential {wanted.Key}: Ready={wanted.Ready.Ok} {wanted.Ready.Reason}");
        }
    }

    private async Task WriteRouteStatusesAsync(IReadOnlyList<MailRoute> routes, IReadOnlyDictionary<string, DesiredRouteStatus> statuses, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        foreach (var route in routes)
        {
            var wanted = statuses[ResourceKey.Of(route)];
            var existing = route.Status.Conditions;
            var conditions = new List<V1Condition>
            {
                Conditions.Make(existing, wanted.Accepted, wanted.Generation, now),
                Conditions.Make(existing, wanted.Programmed, wanted.Generation, now),
            };
            if (route.Status.ObservedGeneration == wanted.Generation && route.Status.ConfigHash == wanted.ConfigHash
                && route.Status.Action == wanted.Action && Conditions.Same(conditions, existing))
            {
                continue;
            }

            await RecordIfWorseAsync(route, "MailRoute", wanted.Key, Conditions.Find(existing, ConditionTypes.Accepted), wanted.Accepted, ct);
            if (wanted.Warning is { } warning && Conditions.Find(existing, ConditionTypes.Accepted)?.Message != wanted.Accepted.Message
                && _warned.Add((route.Metadata.Uid ?? wanted.Key, wanted.Generation, warning.Reason)))
            {
                await RecordWarningAsync(route, "MailRoute", wanted.Key, warning.Reason, warning.Message, ct);
            }

            await PatchStatusAsync("mailroutes", route.Metadata, new Dictionary<string, object?>
            {
                ["observedGeneration"] = wanted.Generation,
                ["configHash"] = wanted.ConfigHash, // null removes it (merge patch)
                ["action"] = wanted.Action,
                ["conditions"] = conditions,
            }, ct);
            _writer.Wrote("status", $"MailRoute {wanted.Key}: Accepted={wanted.Accepted.Ok} {wanted.Accepted.Reason}, Programmed={wanted.Programmed.Ok}");
        }
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
    private async Task RecordIfWorseAsync(IKubernetesObject<V1ObjectMeta> subject, string kind, string key, V1Condition? previous, DesiredCondition wanted, CancellationToken ct)
    {
        if (wanted.Ok || (previous is { Status: "False" } && previous.Reason == wanted.Reason))
        {
            return;
        }

        await RecordWarningAsync(subject, kind, key, wanted.Reason, wanted.Message, ct);
    }

    /// <summary>Records a Warning Event on <paramref name="subject"/>.</summary>
    private async Task RecordWarningAsync(IKubernetesObject<V1ObjectMeta> subject, string kind, string key, string reason, string message, CancellationToken ct, string apiVersion = Api.GroupVersion)
    {
        var now = DateTime.UtcNow;
        var eventNamespace = subject.Metadata.NamespaceProperty ?? "default"; // a cluster-scoped subject's (MailDomain) Events go to default, as kubectl describe expects
        var ev = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = subject.Metadata.Name + ".", NamespaceProperty = eventNamespace },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = apiVersion,
                Kind = kind,
                Name = subject.Metadata.Name,
                NamespaceProperty = subject.Metadata.NamespaceProperty,
                Uid = subject.Metadata.Uid,
                ResourceVersion = subject.Metadata.ResourceVersion,
            },
            Reason = reason,
            Message = message,
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
            await client.CoreV1.CreateNamespacedEventAsync(ev, eventNamespace, cancellationToken: ct);
            _writer.Wrote("Event", $"Warning {reason} on {kind} {key}: {message}");
        }
        catch (HttpOperationException e)
        {
            logger.LogWarning("Could not record an Event on {Kind} {Key}: HTTP {Status}", kind, key, (int)e.Response.StatusCode);
        }
    }
}
