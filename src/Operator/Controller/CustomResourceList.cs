using System.Text.Json.Serialization;
using k8s.Models;

namespace MailRelay.Operator.Controller;

/// <summary>A list of custom resources as the API server returns it.</summary>
public sealed class CustomResourceList<T>
{
    /// <summary>List metadata (resourceVersion to watch from).</summary>
    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public List<T> Items { get; set; } = [];
}
