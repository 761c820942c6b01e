using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace MailRelay.Operator.Entities;

/// <summary>
/// A grant of a sender domain's mail to namespaces (cluster-scoped): MailRoutes outside the
/// trusted namespaces may claim only senders inside a domain granted to their namespace.
/// </summary>
[KubernetesEntity(Group = Api.Group, ApiVersion = Api.Version, Kind = "MailDomain", PluralName = "maildomains")]
public sealed class MailDomain : IKubernetesObject<V1ObjectMeta>, ISpec<MailDomainSpec>, IStatus<MailDomainStatus>
{
    /// <inheritdoc />
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = Api.GroupVersion;

    /// <inheritdoc />
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "MailDomain";

    /// <inheritdoc />
    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    /// <inheritdoc />
    [JsonPropertyName("spec")]
    public MailDomainSpec Spec { get; set; } = new();

    /// <inheritdoc />
    [JsonPropertyName("status")]
    public MailDomainStatus Status { get; set; } = new();
}

/// <summary>The domain and the namespaces that own its mail.</summary>
public sealed class MailDomainSpec
{
    /// <summary>The domain, Unicode or A-label.</summary>
    [JsonPropertyName("domain")]
    public string Domain { get; set; } = string.Empty;

    /// <summary>Whether the grant also covers every subdomain (default true).</summary>
    [JsonPropertyName("subdomains")]
    public bool? Subdomains { get; set; }

    /// <summary>Namespaces granted the domain.</summary>
    [JsonPropertyName("namespaces")]
    public List<string>? Namespaces { get; set; }

    /// <summary>Namespaces granted the domain by label, OR-ed with <see cref="Namespaces"/>; an empty selector selects none.</summary>
    [JsonPropertyName("namespaceSelector")]
    public V1LabelSelector? NamespaceSelector { get; set; }
}

/// <summary>Whether the grant is in effect.</summary>
public sealed class MailDomainStatus
{
    /// <summary>The generation the conditions describe.</summary>
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    /// <summary>Ready.</summary>
    [JsonPropertyName("conditions")]
    public List<V1Condition>? Conditions { get; set; }
}
