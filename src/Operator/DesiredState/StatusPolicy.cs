using MailRelay.Operator.Entities;

namespace MailRelay.Operator.DesiredState;

/// <summary>
/// The status each resource should carry, from the desired config and the relay workload:
/// Accepted and Ready are the verdicts; Programmed is True once an accepted route is in the
/// config the relay workload carries (reason Held for a route programmed with the hold action: not
/// accepted for want of its credential, yet in the table), False while the workload does not exist or
/// the route is not accepted and not held; False (TableNotWritten) when the table could not be written.
/// </summary>
public static class StatusPolicy
{
    /// <summary>The statuses of all resources.</summary>
    public static DesiredStatuses For(DesiredRelayConfig desired, RelayWorkload workload)
    {
        var routes = new Dictionary<string, DesiredRouteStatus>(StringComparer.Ordinal);
        foreach (var verdict in desired.Routes)
        {
            routes[verdict.Key] = Route(verdict, desired.ConfigHash, workload);
        }

        var credentials = new Dictionary<string, DesiredCredentialStatus>(StringComparer.Ordinal);
        foreach (var verdict in desired.Credentials)
        {
            credentials[verdict.Key] = new DesiredCredentialStatus(verdict.Key, verdict.Generation, Condition(ConditionTypes.Ready, verdict));
        }

        return new DesiredStatuses(routes, credentials);
    }

    /// <summary>The status of one MailRoute.</summary>
    public static DesiredRouteStatus Route(Verdict verdict, string configHash, RelayWorkload workload)
    {
        var workloadRef = workload.Kind + "/" + workload.Name;
        var held = verdict.HoldReason is not null;
        var programmed = !verdict.Ok && !held
            ? new DesiredCondition(ConditionTypes.Programmed, false, ConditionReasons.NotAccepted, "the route is not accepted")
            : !workload.Exists
                ? new DesiredCondition(ConditionTypes.Programmed, false, ConditionReasons.RelayWorkloadNotFound, $"{workloadRef} does not exist in {workload.Namespace}")
                : workload.TableError is { } tableError
                    ? new DesiredCondition(ConditionTypes.Programmed, false, ConditionReasons.TableNotWritten,
                        $"the routing table could not be written ({tableError}); {workloadRef} keeps the last good table{(workload.CarriedHash is { } carried ? " (" + carried + ")" : string.Empty)}, without this version of the route")
                : held
                    ? new DesiredCondition(ConditionTypes.Programmed, true, ConditionReasons.Held, $"held in relay config {configHash}, carried by {workloadRef}: its mail is accepted and queued until the credential is back")
                    : new DesiredCondition(ConditionTypes.Programmed, true, ConditionReasons.Programmed, $"in relay config {configHash}, carried by {workloadRef}");
        return new DesiredRouteStatus(
            verdict.Key,
            verdict.Generation,
            Condition(ConditionTypes.Accepted, verdict),
            programmed,
            verdict.Action,
            programmed.Ok ? configHash : null,
            verdict.Warning);
    }

    private static DesiredCondition Condition(string type, Verdict verdict) => new(type, verdict.Ok, verdict.Reason, verdict.Message);
}
