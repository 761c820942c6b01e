using k8s.Models;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.DesiredState;

/// <summary>Everything the desired state is built from: the caches at one moment.</summary>
/// <param name="Routes">All MailRoutes.</param>
/// <param name="Credentials">All RelayCredentials.</param>
/// <param name="Secrets">The Secrets RelayCredentials reference, by (namespace, name); a missing key means not found.</param>
public sealed record ClusterSnapshot(
    IReadOnlyList<MailRoute> Routes,
    IReadOnlyList<RelayCredential> Credentials,
    IReadOnlyDictionary<(string Namespace, string Name), V1Secret> Secrets)
{
    /// <summary>All MailDomains (cluster-scoped): the grants of sender domains to namespaces.</summary>
    public IReadOnlyList<MailDomain> Domains { get; init; } = [];

    /// <summary>The labels of the namespaces known, by name (for namespaceSelector); a namespace absent here has unknown labels.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> NamespaceLabels { get; init; } = new Dictionary<string, IReadOnlyDictionary<string, string>>();

    /// <summary>The sending-identity Secrets the operator labelled (all namespaces), for their passwords; not used by the pure steps.</summary>
    public IReadOnlyList<V1Secret> IdentitySecrets { get; init; } = [];

    /// <summary>Namespaces whose MailRoutes may claim any sender pattern (<c>--trusted-namespaces</c>); required, so no caller trusts by omission.</summary>
    public required IReadOnlySet<string> TrustedNamespaces { get; init; }

    /// <summary>
    /// Whether a Secret absent from <see cref="Secrets"/> is managed elsewhere (render and explain over files:
    /// SealedSecrets, External Secrets): its RelayCredential is then <c>SecretExternal</c> — programmed as if
    /// the Secret were present, its values left out. False for the operator (and <c>render --require-secrets</c>):
    /// an absent Secret does not exist.
    /// </summary>
    public bool SecretsElsewhere { get; init; }
}
