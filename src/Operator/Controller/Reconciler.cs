using System.Net;
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
/// only what differs: the ConfigMap, the Secret, the workload's config-hash annotation, each
/// resource's status (decided by <see cref="StatusPolicy"/>), then the relay's certificate
/// (<see cref="CertificateWriter"/>) and the sending identities (<see cref="IdentityWriter"/>). Events are recorded when a
/// resource's condition turns False or changes reason.
/// </summary>
public sealed partial class Reconciler(IKubernetes client, OperatorOptions options, ILogger logger)
{
    private static readonly TimeSpan WorkloadRetry = TimeSpan.FromSeconds(30);

    /// <summary>Status writes in flight at once: enough to hide the API server's latency, few enough not to swamp it.</summary>
    private const int StatusConcurrency = 8;

    /// <summary>Status writes run at least this long before yielding to a newer table.</summary>
    private static readonly TimeSpan MinStatusWork = TimeSpan.FromSeconds(1);

    private readonly OwnedObjects _owned = new(client, options);
    private readonly WriteIfChanged _writer = new(logger);
    private RoutesWriter? _routesWriter;
    private IReadOnlyList<string> _staleParts = [];
    private string? _tableError;
    private IdentityWriter? _identities;
    private HashSet<TlsWarning> _tlsWarnings = [];

    // Warnings recorded for a resource's generation: the cache may still show the old status on the
    // next reconcile, and a warning is said once, not once per status write.
    private readonly HashSet<(string Uid, long Generation, string Reason)> _warned = [];

    // What this operator last wrote on each route's status, and the resourceVersion the route had then.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string? ResourceVersion, int Fingerprint)> _written = new(StringComparer.Ordinal);

    public async Task<ReconcileResult> ReconcileAsync(ClusterSnapshot snapshot, CancellationToken ct, Func<bool>? superseded = null)
    {
        var desired = DesiredStateBuilder.Build(snapshot);

        // The table first, before any status: what the relay runs is what matters (issue 11, B7).
        var tableError = await WriteTableAsync(desired, ct);
        await _writer.ApplyAsync(_owned.Secret(desired), ct);
        var workload = tableError is null
            ? new RelayWorkload(options.WorkloadKind, options.WorkloadName, options.Namespace, await _writer.ApplyAsync(_owned.WorkloadHash(desired.ConfigHash), ct) != Applied.NotFound)
            : await CarriedAsync(tableError, ct);
        if (!workload.Exists)
        {
            logger.LogWarning("Relay workload {Kind}/{Name} not found in {Namespace}; routes cannot be programmed until it exists", options.WorkloadKind, options.WorkloadName, options.Namespace);
        }

        if (tableError is null && _staleParts.Count > 0)
        {
            // After the workload's hash names the new table: no relay needs these parts any more.
            await Routes.DeleteAsync(_staleParts, ct);
            _staleParts = [];
        }

        var statuses = StatusPolicy.For(desired, workload);
        await WriteCredentialStatusesAsync(snapshot.Credentials, statuses.Credentials, ct);
        if (!await WriteRouteStatusesAsync(snapshot.Routes, statuses.Routes, workload, superseded, ct))
        {
            return ReconcileResult.Superseded; // a newer table first; the rest of the statuses after it
        }

        await WriteDomainStatusesAsync(snapshot.Domains, desired.Domains, ct);

        // Last, so that a failure here (retried with backoff) never holds up routing and statuses.
        // The Secrets made for the relay in this namespace go with its workload (garbage collection).
        var owner = workload.Exists ? await RelayOwner.ReadAsync(client, options, ct) : null;
        _identities ??= new IdentityWriter(client, options, _writer, logger);
        var tls = await new CertificateWriter(client, options, _writer, logger).ApplyAsync(owner, ct);
        await RecordTlsWarningsAsync(tls.Warnings, ct);
        await _identities.ApplyAsync(SendingIdentities.Plan(snapshot), snapshot.IdentitySecrets, tls.CaCertificate, owner, ct);

        OperatorMetrics.Resources.WithLabels("MailRoute", "true").Set(desired.Routes.Count(v => v.Ok));
        OperatorMetrics.Resources.WithLabels("MailRoute", "false").Set(desired.Routes.Count(v => !v.Ok));
        OperatorMetrics.Resources.WithLabels("RelayCredential", "true").Set(desired.Credentials.Count(v => v.Ok));
        OperatorMetrics.Resources.WithLabels("RelayCredential", "false").Set(desired.Credentials.Count(v => !v.Ok));
        return workload.Exists && tls.SourceReady && tableError is null ? ReconcileResult.Done : ReconcileResult.Requeue(WorkloadRetry);
    }

    /// <summary>
    /// Writes the routing table's ConfigMaps; null when written (or unchanged), else why not: too large for
    /// --routes-max-parts, or refused by the API server (HTTP 4xx). The ConfigMaps then keep the last good
    /// table and the workload's hash is not changed: the relay stays on it. Other failures throw (retried).
    /// </summary>
    private async Task<string?> WriteTableAsync(DesiredRelayConfig desired, CancellationToken ct)
    {
        var routes = RoutesConfigMaps.For(desired, options.ConfigMapName, options.Namespace, options.RoutesMaxParts);
        string? error = routes.Error;
        if (error is null)
        {
            try
            {
                var stale = await Routes.ApplyAsync(routes, ct);
                _staleParts = stale;
            }
            catch (HttpOperationException e) when ((int)e.Response.StatusCode is >= 400 and < 500 and not 404 and not 409 and not 429)
            {
                error = $"HTTP {(int)e.Response.StatusCode} from the API server: {Truncate(e.Response.Content, 300)}";
            }
        }

        OperatorMetrics.TableWritten.Set(error is null ? 1 : 0);
        if (error is null)
        {
            _tableError = null;
            return null;
        }

        if (error != _tableError)
        {
            logger.LogError("The routing table cannot be written: {Error}; the relay keeps the last good table", error);
            _tableError = error;
        }

        return error;
    }

    /// <summary>The workload as it is (not patched), with the hash of the last good table it carries.</summary>
    private async Task<RelayWorkload> CarriedAsync(string tableError, CancellationToken ct)
    {
        string? hash = null;
        var exists = true;
        try
        {
            var template = await _owned.WorkloadHash(string.Empty).Read(ct);
            hash = template?.Metadata?.Annotations?.TryGetValue(OwnedObjects.ConfigHashAnnotation, out var h) == true ? h : null;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            exists = false;
        }

        return new RelayWorkload(options.WorkloadKind, options.WorkloadName, options.Namespace, exists, tableError, hash);
    }

    private RoutesWriter Routes => _routesWriter ??= new RoutesWriter(client, options, _owned, _writer);

    private static string Truncate(string? s, int length) => s is null ? string.Empty : s.Length > length ? s[..length] : s;

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

    /// <summary>
    /// Writes every MailRoute status that differs, <see cref="StatusConcurrency"/> at a time. Returns false when
    /// it stopped early because <paramref name="superseded"/> said a newer set of routes is waiting (after at
    /// least <see cref="MinStatusWork"/>): its table is written first, then the statuses go on from there.
    /// </summary>
    private async Task<bool> WriteRouteStatusesAsync(IReadOnlyList<MailRoute> routes, IReadOnlyDictionary<string, DesiredRouteStatus> statuses, RelayWorkload workload, Func<bool>? superseded, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var started = System.Diagnostics.Stopwatch.StartNew();
        var written = 0;
        var complete = true;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pending = routes.Select(route => (Route: route, Wanted: statuses[ResourceKey.Of(route)])).Where(p => NeedsWrite(p.Route, p.Wanted, workload, now));
        try
        {
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = StatusConcurrency, CancellationToken = stop.Token }, async (item, token) =>
            {
                if (started.Elapsed > MinStatusWork && superseded?.Invoke() == true)
                {
                    complete = false;
                    await stop.CancelAsync();
                    return;
                }

                await WriteRouteStatusAsync(item.Route, item.Wanted, now, token);
                Interlocked.Increment(ref written);
            });
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }

        if (written > 0)
        {
            logger.LogInformation("Wrote {Count} MailRoute status(es) in {Seconds:F1} s{More}", written, started.Elapsed.TotalSeconds, complete ? string.Empty : "; a newer table first, then the rest");
        }

        PruneWritten(routes);
        return complete;
    }

    /// <summary>
    /// Whether a route's status differs from what is wanted. A route still in the last good table, when the
    /// new one cannot be written, keeps its Programmed=True. A status this operator just wrote, while the cache
    /// still shows the object as it was before that write, is not written again.
    /// </summary>
    private bool NeedsWrite(MailRoute route, DesiredRouteStatus wanted, RelayWorkload workload, DateTime now)
    {
        var existing = route.Status.Conditions;
        if (workload.TableError is not null && wanted.Programmed.Reason == ConditionReasons.TableNotWritten
            && route.Status.ObservedGeneration == wanted.Generation && route.Status.ConfigHash is { } carried && carried == workload.CarriedHash
            && Conditions.Find(existing, ConditionTypes.Programmed)?.Status == "True")
        {
            return false; // unchanged and in the table the relay keeps: still programmed
        }

        if (_written.TryGetValue(ResourceKey.Of(route), out var memo) && memo.ResourceVersion == route.Metadata.ResourceVersion && memo.Fingerprint == Fingerprint(wanted))
        {
            return false;
        }

        var conditions = new List<V1Condition>
        {
            Conditions.Make(existing, wanted.Accepted, wanted.Generation, now),
            Conditions.Make(existing, wanted.Programmed, wanted.Generation, now),
        };
        return !(route.Status.ObservedGeneration == wanted.Generation && route.Status.ConfigHash == wanted.ConfigHash
            && route.Status.Action == wanted.Action && Conditions.Same(conditions, existing));
    }

    private async Task WriteRouteStatusAsync(MailRoute route, DesiredRouteStatus wanted, DateTime now, CancellationToken ct)
    {
        var existing = route.Status.Conditions;
        var conditions = new List<V1Condition>
        {
            Conditions.Make(existing, wanted.Accepted, wanted.Generation, now),
            Conditions.Make(existing, wanted.Programmed, wanted.Generation, now),
        };
        await RecordIfWorseAsync(route, "MailRoute", wanted.Key, Conditions.Find(existing, ConditionTypes.Accepted), wanted.Accepted, ct);
        if (wanted.Programmed.Reason == ConditionReasons.TableNotWritten)
        {
            await RecordIfWorseAsync(route, "MailRoute", wanted.Key, Conditions.Find(existing, ConditionTypes.Programmed), wanted.Programmed, ct);
        }

        if (wanted.Warning is { } warning && Conditions.Find(existing, ConditionTypes.Accepted)?.Message != wanted.Accepted.Message)
        {
            bool first;
            lock (_warned)
            {
                first = _warned.Add((route.Metadata.Uid ?? wanted.Key, wanted.Generation, warning.Reason));
            }

            if (first)
            {
                await RecordWarningAsync(route, "MailRoute", wanted.Key, warning.Reason, warning.Message, ct);
            }
        }

        await PatchStatusAsync("mailroutes", route.Metadata, new Dictionary<string, object?>
        {
            ["observedGeneration"] = wanted.Generation,
            ["configHash"] = wanted.ConfigHash, // null removes it (merge patch)
            ["action"] = wanted.Action,
            ["conditions"] = conditions,
        }, ct);
        _written[wanted.Key] = (route.Metadata.ResourceVersion, Fingerprint(wanted));
        OperatorMetrics.Writes.WithLabels("status").Inc();
        logger.LogDebug("MailRoute {Key}: Accepted={Accepted} {Reason}, Programmed={Programmed}", wanted.Key, wanted.Accepted.Ok, wanted.Accepted.Reason, wanted.Programmed.Ok);
    }

    /// <summary>A hash of everything a route status says but its transition times (an in-process memo: collisions only defer a write until the cache catches up).</summary>
    private static int Fingerprint(DesiredRouteStatus s) => HashCode.Combine(s.Generation, s.ConfigHash, s.Action,
        HashCode.Combine(s.Accepted.Status, s.Accepted.Reason, s.Accepted.Message), HashCode.Combine(s.Programmed.Status, s.Programmed.Reason, s.Programmed.Message));

    /// <summary>Forgets what was written for routes that are gone.</summary>
    private void PruneWritten(IReadOnlyList<MailRoute> routes)
    {
        if (_written.Count <= routes.Count)
        {
            return;
        }

        var present = routes.Select(ResourceKey.Of).ToHashSet(StringComparer.Ordinal);
        foreach (var key in _written.Keys.Where(k => !present.Contains(k)).ToList())
        {
            _written.TryRemove(key, out _);
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
