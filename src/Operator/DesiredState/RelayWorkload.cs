namespace MailRelay.Operator.DesiredState;

/// <summary>The relay workload as the reconciler found it: whether routes can be programmed.</summary>
/// <param name="Kind"><c>deployment</c> or <c>statefulset</c>.</param>
/// <param name="Name">The workload's name.</param>
/// <param name="Namespace">Where it should be.</param>
/// <param name="Exists">False when it was not found: no pod carries the config.</param>
public sealed record RelayWorkload(string Kind, string Name, string Namespace, bool Exists);
