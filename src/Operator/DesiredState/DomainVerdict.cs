using MailRelay.Operator.Entities;

namespace MailRelay.Operator.DesiredState;

/// <summary>The operator's judgement on one MailDomain (cluster-scoped): its condition Ready.</summary>
/// <param name="Name">The MailDomain's name.</param>
/// <param name="Generation">metadata.generation judged (becomes observedGeneration).</param>
/// <param name="Ok">Ready True/False: whether the grant is in effect.</param>
/// <param name="Reason"><see cref="ConditionReasons.Ready"/>, <see cref="ConditionReasons.InvalidSpec"/> or <see cref="ConditionReasons.Overlapping"/>.</param>
/// <param name="Message">For people: what is granted to whom, or what is wrong.</param>
public sealed record DomainVerdict(string Name, long Generation, bool Ok, string Reason, string Message)
{
    /// <summary>The condition to write.</summary>
    public DesiredCondition Ready => new(ConditionTypes.Ready, Ok, Reason, Message);
}
