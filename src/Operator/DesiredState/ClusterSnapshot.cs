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
    IReadOnlyDictionary<(string Namespace, string Name), V1Secret> Secrets);
