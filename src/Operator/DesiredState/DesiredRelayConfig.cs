namespace MailRelay.Operator.DesiredState;

/// <summary>What the relay should run with, and the verdict on every resource.</summary>
/// <param name="RoutesYaml">The ConfigMap's <c>routes.yaml</c>.</param>
/// <param name="SecretData">The relay Secret's data: <c>NAMESPACE.NAME.username</c> / <c>.password</c>.</param>
/// <param name="ConfigHash">Hash of both: the pod-template annotation <c>mailrelay.io/config-hash</c>.</param>
/// <param name="Routes">One verdict per MailRoute (condition Accepted); NotPermitted routes (<see cref="SenderGrants"/>) are not in the table.</param>
/// <param name="Credentials">One verdict per RelayCredential (condition Ready).</param>
public sealed record DesiredRelayConfig(
    string RoutesYaml,
    IReadOnlyDictionary<string, byte[]> SecretData,
    string ConfigHash,
    IReadOnlyList<Verdict> Routes,
    IReadOnlyList<Verdict> Credentials)
{
    /// <summary>One verdict per MailDomain (condition Ready), by name.</summary>
    public IReadOnlyList<DomainVerdict> Domains { get; init; } = [];

    /// <summary>
    /// Credentials of programmed routes whose Secret is managed elsewhere (<see cref="ClusterSnapshot.SecretsElsewhere"/>):
    /// credential name -> <c>namespace/secret</c>. Their keys are absent from <see cref="SecretData"/> and the hash.
    /// </summary>
    public IReadOnlyDictionary<string, string> ExternalCredentials { get; init; } = new Dictionary<string, string>();
}
