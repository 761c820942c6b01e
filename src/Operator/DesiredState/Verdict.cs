namespace MailRelay.Operator.DesiredState;

/// <summary>The operator's judgement on one resource: the condition to write (Accepted or Ready).</summary>
/// <param name="Namespace">The resource's namespace.</param>
/// <param name="Name">The resource's name.</param>
/// <param name="Generation">metadata.generation judged (becomes observedGeneration).</param>
/// <param name="Ok">Condition status True/False.</param>
/// <param name="Reason">A reason of <see cref="Entities.ConditionReasons"/>.</param>
/// <param name="Message">For people; never a secret value.</param>
/// <param name="Action">For MailRoutes: what the route does, for the printer column.</param>
/// <param name="Warning">Something a user should fix although the resource is accepted: (reason, message) for a Warning Event.</param>
/// <param name="HoldReason">Set for a MailRoute not accepted but programmed with the hold action (fail closed): the table's hold reason.</param>
public sealed record Verdict(string Namespace, string Name, long Generation, bool Ok, string Reason, string Message, string? Action = null, (string Reason, string Message)? Warning = null, string? HoldReason = null)
{
    /// <summary><c>namespace/name</c>.</summary>
    public string Key => Namespace + "/" + Name;
}
