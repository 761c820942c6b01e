namespace MailRelay.Operator.DesiredState;

/// <summary>A condition to write, without lastTransitionTime (which depends on what the object carries).</summary>
/// <param name="Type">A type of <see cref="Entities.ConditionTypes"/>.</param>
/// <param name="Ok">Status True/False.</param>
/// <param name="Reason">A reason of <see cref="Entities.ConditionReasons"/>.</param>
/// <param name="Message">For people; never a secret value.</param>
public sealed record DesiredCondition(string Type, bool Ok, string Reason, string Message)
{
    /// <summary><c>True</c> or <c>False</c>.</summary>
    public string Status => Ok ? "True" : "False";
}
