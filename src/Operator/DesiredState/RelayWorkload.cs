namespace MailRelay.Operator.DesiredState;

/// <summary>The relay workload as the reconciler found it: whether routes can be programmed.</summary>
/// <param name="Kind"><c>deployment</c> or <c>statefulset</c>.</param>
/// <param name="Name">The workload's name.</param>
/// <param name="Namespace">Where it should be.</param>
/// <param name="Exists">False when it was not found: no pod carries the config.</param>
/// <param name="TableError">Why the routing table could not be written, or null: the workload then carries the last good table (<paramref name="CarriedHash"/>).</param>
/// <param name="CarriedHash">The config hash the workload carries when the table could not be written.</param>
public sealed record RelayWorkload(string Kind, string Name, string Namespace, bool Exists, string? TableError = null, string? CarriedHash = null);
