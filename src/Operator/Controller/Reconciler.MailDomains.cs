using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.Controller;

/// <summary>MailDomain statuses: condition Ready, written only when it changed.</summary>
public sealed partial class Reconciler
{
    private async Task WriteDomainStatusesAsync(IReadOnlyList<MailDomain> domains, IReadOnlyList<DomainVerdict> verdicts, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var byName = verdicts.ToDictionary(v => v.Name, StringComparer.Ordinal);
        foreach (var domain in domains)
        {
            var wanted = byName[domain.Metadata.Name];
            var existing = domain.Status.Conditions;
            var conditions = new List<V1Condition> { Conditions.Make(existing, wanted.Ready, wanted.Generation, now) };
            if (domain.Status.ObservedGeneration == wanted.Generation && Conditions.Same(conditions, existing))
            {
                continue;
            }

            await RecordIfWorseAsync(domain, "MailDomain", wanted.Name, Conditions.Find(existing, ConditionTypes.Ready), wanted.Ready, ct);
            var body = new V1Patch(
                KubernetesJson.Serialize(new Dictionary<string, object>
                {
                    ["status"] = new Dictionary<string, object?> { ["observedGeneration"] = wanted.Generation, ["conditions"] = conditions },
                }),
                V1Patch.PatchType.MergePatch);
            try
            {
                await client.CustomObjects.PatchClusterCustomObjectStatusAsync(body, Api.Group, Api.Version, "maildomains", domain.Metadata.Name, cancellationToken: ct);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                // deleted since the snapshot: the delete event brings the next reconcile
            }

            _writer.Wrote("status", $"MailDomain {wanted.Name}: Ready={wanted.Ready.Ok} {wanted.Ready.Reason}");
        }

        OperatorMetrics.Resources.WithLabels("MailDomain", "true").Set(verdicts.Count(v => v.Ok));
        OperatorMetrics.Resources.WithLabels("MailDomain", "false").Set(verdicts.Count(v => !v.Ok));
    }
}
