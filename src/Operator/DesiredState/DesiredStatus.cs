namespace MailRelay.Operator.DesiredState;

/// <summary>The complete status to write on one MailRoute.</summary>
/// <param name="Key"><c>namespace/name</c>.</param>
/// <param name="Generation">Becomes observedGeneration.</param>
/// <param name="Accepted">Condition Accepted: the verdict.</param>
/// <param name="Programmed">Condition Programmed: in the config the relay workload carries.</param>
/// <param name="Action">What the route does (printer column); null when not accepted.</param>
/// <param name="ConfigHash">The config hash while programmed, else null (the field is removed).</param>
/// <param name="Warning">A Warning Event to record when this status is written: (reason, message).</param>
public sealed record DesiredRouteStatus(string Key, long Generation, DesiredCondition Accepted, DesiredCondition Programmed, string? Action, string? ConfigHash, (string Reason, string Message)? Warning = null);

/// <summary>The complete status to write on one RelayCredential.</summary>
/// <param name="Key"><c>namespace/name</c>.</param>
/// <param name="Generation">Becomes observedGeneration.</param>
/// <param name="Ready">Condition Ready: the verdict.</param>
public sealed record DesiredCredentialStatus(string Key, long Generation, DesiredCondition Ready);

/// <summary>The status of every resource, by <c>namespace/name</c>.</summary>
/// <param name="Routes">One per MailRoute.</param>
/// <param name="Credentials">One per RelayCredential.</param>
public sealed record DesiredStatuses(
    IReadOnlyDictionary<string, DesiredRouteStatus> Routes,
    IReadOnlyDictionary<string, DesiredCredentialStatus> Credentials);
