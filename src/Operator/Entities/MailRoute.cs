using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace MailRelay.Operator.Entities;

/// <summary>A route for mail by sender (and optionally recipient): relay, direct or reject.</summary>
[KubernetesEntity(Group = Api.Group, ApiVersion = Api.Version, Kind = "MailRoute", PluralName = "mailroutes")]
public sealed class MailRoute : IKubernetesObject<V1ObjectMeta>, ISpec<MailRouteSpec>, IStatus<MailRouteStatus>
{
    /// <inheritdoc />
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = Api.GroupVersion;

    /// <inheritdoc />
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "MailRoute";

    /// <inheritdoc />
    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    /// <inheritdoc />
    [JsonPropertyName("spec")]
    public MailRouteSpec Spec { get; set; } = new();

    /// <inheritdoc />
    [JsonPropertyName("status")]
    public MailRouteStatus Status { get; set; } = new();
}

/// <summary>The desired route.</summary>
public sealed class MailRouteSpec
{
    /// <summary>1..100 envelope-sender patterns.</summary>
    [JsonPropertyName("senders")]
    public List<string> Senders { get; set; } = [];

    /// <summary>0..100 recipient patterns; empty = any.</summary>
    [JsonPropertyName("recipients")]
    public List<string>? Recipients { get; set; }

    /// <summary>-1000..1000, default 0.</summary>
    [JsonPropertyName("priority")]
    public int? Priority { get; set; }

    /// <summary>Deliver through an upstream relay.</summary>
    [JsonPropertyName("relay")]
    public RelaySpec? Relay { get; set; }

    /// <summary>Deliver to the recipients' MX hosts.</summary>
    [JsonPropertyName("direct")]
    public DirectSpec? Direct { get; set; }

    /// <summary>Refuse with 550 5.7.1.</summary>
    [JsonPropertyName("reject")]
    public RejectSpec? Reject { get; set; }
}

/// <summary>An upstream relay.</summary>
public sealed class RelaySpec
{
    /// <summary>Host name or IP.</summary>
    [JsonPropertyName("host")]
    public string Host { get; set; } = string.Empty;

    /// <summary>Default 587; 465 = implicit TLS.</summary>
    [JsonPropertyName("port")]
    public int? Port { get; set; }

    /// <summary>Verify (default), Encrypt, Opportunistic, None.</summary>
    [JsonPropertyName("tls")]
    public string? Tls { get; set; }

    /// <summary>A RelayCredential in the route's namespace.</summary>
    [JsonPropertyName("credentialRef")]
    public LocalObjectReference? CredentialRef { get; set; }

    /// <summary>Recipients per upstream transaction (default 50, SES's limit); more go in further transactions.</summary>
    [JsonPropertyName("maxRecipients")]
    public int? MaxRecipients { get; set; }
}

/// <summary>Marker for direct delivery.</summary>
public sealed class DirectSpec;

/// <summary>A reject action.</summary>
public sealed class RejectSpec
{
    /// <summary>Text after 550 5.7.1.</summary>
    [JsonPropertyName("message")]
    public string? Message { get; set; }
}

/// <summary>A reference by name within the same namespace.</summary>
public sealed class LocalObjectReference
{
    /// <summary>The object's name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = string.Empty;
}

/// <summary>What the operator observed and did.</summary>
public sealed class MailRouteStatus
{
    /// <summary>The generation the conditions describe.</summary>
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    /// <summary>The relay config this route was programmed into.</summary>
    [JsonPropertyName("configHash")]
    public string? ConfigHash { get; set; }

    /// <summary>What the route does, for the printer column (e.g. <c>relay host:587</c>).</summary>
    [JsonPropertyName("action")]
    public string? Action { get; set; }

    /// <summary>Accepted and Programmed.</summary>
    [JsonPropertyName("conditions")]
    public List<V1Condition>? Conditions { get; set; }
}
