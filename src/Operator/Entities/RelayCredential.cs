using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace MailRelay.Operator.Entities;

/// <summary>Where the username and password for an upstream relay are: a Secret in the same namespace.</summary>
[KubernetesEntity(Group = Api.Group, ApiVersion = Api.Version, Kind = "RelayCredential", PluralName = "relaycredentials")]
public sealed class RelayCredential : IKubernetesObject<V1ObjectMeta>, ISpec<RelayCredentialSpec>, IStatus<RelayCredentialStatus>
{
    /// <inheritdoc />
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = Api.GroupVersion;

    /// <inheritdoc />
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "RelayCredential";

    /// <inheritdoc />
    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    /// <inheritdoc />
    [JsonPropertyName("spec")]
    public RelayCredentialSpec Spec { get; set; } = new();

    /// <inheritdoc />
    [JsonPropertyName("status")]
    public RelayCredentialStatus Status { get; set; } = new();
}

/// <summary>The Secret holding the credential.</summary>
public sealed class RelayCredentialSpec
{
    /// <summary>The Secret and its keys.</summary>
    [JsonPropertyName("secretRef")]
    public SecretKeysReference SecretRef { get; set; } = new();
}

/// <summary>A Secret in the same namespace and the keys of the username and password.</summary>
public sealed class SecretKeysReference
{
    /// <summary>The username key when none is given.</summary>
    public const string DefaultUsernameKey = "username";

    /// <summary>The password key when none is given.</summary>
    public const string DefaultPasswordKey = "password";

    /// <summary>The Secret's name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = string.Empty;

    /// <summary>Key of the username (default <c>username</c>).</summary>
    [JsonPropertyName("usernameKey")]
    public string? UsernameKey { get; set; }

    /// <summary>Key of the password (default <c>password</c>).</summary>
    [JsonPropertyName("passwordKey")]
    public string? PasswordKey { get; set; }
}

/// <summary>Whether the credential resolved.</summary>
public sealed class RelayCredentialStatus
{
    /// <summary>The generation the conditions describe.</summary>
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    [JsonPropertyName("conditions")]
    public List<V1Condition>? Conditions { get; set; }
}
