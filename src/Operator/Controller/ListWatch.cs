using System.Runtime.CompilerServices;
using System.Text.Json;
using k8s;
using k8s.Models;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.Controller;

/// <summary>How an informer lists and watches one kind of object.</summary>
public interface IListWatch<T>
{
    /// <summary>Lists everything; returns the items and the list's resourceVersion.</summary>
    Task<(IReadOnlyList<T> Items, string ResourceVersion)> ListAsync(CancellationToken ct);

    /// <summary>Watches from <paramref name="resourceVersion"/>; the server ends the stream after <paramref name="timeout"/>.</summary>
    IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(string resourceVersion, TimeSpan timeout, Action<Exception> onError, CancellationToken ct);
}

/// <summary>List and watch of a custom resource in all namespaces.</summary>
public sealed class CustomResourceListWatch<T>(IKubernetes client, string plural) : IListWatch<T>
{
    /// <inheritdoc />
    public async Task<(IReadOnlyList<T> Items, string ResourceVersion)> ListAsync(CancellationToken ct)
    {
        var response = await client.CustomObjects.ListClusterCustomObjectAsync(Api.Group, Api.Version, plural, cancellationToken: ct);
        var list = KubernetesJson.Deserialize<CustomResourceList<T>>(((JsonElement)response).GetRawText());
        return (list.Items, list.Metadata.ResourceVersion);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(string resourceVersion, TimeSpan timeout, Action<Exception> onError, [EnumeratorCancellation] CancellationToken ct)
    {
        var stream = client.CustomObjects.WatchListClusterCustomObjectAsync(
            Api.Group, Api.Version, plural, allowWatchBookmarks: true, resourceVersion: resourceVersion,
            timeoutSeconds: (int)timeout.TotalSeconds, onError: onError, cancellationToken: ct);
        await foreach (var (type, item) in stream)
        {
            yield return (type, KubernetesJson.Deserialize<T>(((JsonElement)item).GetRawText()));
        }
    }
}

/// <summary>List and watch of one Secret by name (a field selector): only referenced Secrets are watched and cached.</summary>
public sealed class SecretListWatch(IKubernetes client, string @namespace, string name) : IListWatch<V1Secret>
{
    private string Selector => "metadata.name=" + name;

    /// <inheritdoc />
    public async Task<(IReadOnlyList<V1Secret> Items, string ResourceVersion)> ListAsync(CancellationToken ct)
    {
        var list = await client.CoreV1.ListNamespacedSecretAsync(@namespace, fieldSelector: Selector, cancellationToken: ct);
        return (list.Items.ToList(), list.Metadata.ResourceVersion);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<(WatchEventType Type, V1Secret Object)> WatchAsync(string resourceVersion, TimeSpan timeout, Action<Exception> onError, CancellationToken ct) =>
        client.CoreV1.WatchListNamespacedSecretAsync(
            @namespace, allowWatchBookmarks: true, fieldSelector: Selector, resourceVersion: resourceVersion,
            timeoutSeconds: (int)timeout.TotalSeconds, onError: onError, cancellationToken: ct);
}

/// <summary>List and watch of the Secrets carrying a label (all namespaces): the operator's own sending-identity Secrets, nothing else.</summary>
public sealed class LabelledSecretListWatch(IKubernetes client, string labelSelector) : IListWatch<V1Secret>
{
    /// <inheritdoc />
    public async Task<(IReadOnlyList<V1Secret> Items, string ResourceVersion)> ListAsync(CancellationToken ct)
    {
        var list = await client.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct);
        return (list.Items.ToList(), list.Metadata.ResourceVersion);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<(WatchEventType Type, V1Secret Object)> WatchAsync(string resourceVersion, TimeSpan timeout, Action<Exception> onError, CancellationToken ct) =>
        client.CoreV1.WatchListSecretForAllNamespacesAsync(
            allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: resourceVersion,
            timeoutSeconds: (int)timeout.TotalSeconds, onError: onError, cancellationToken: ct);
}
