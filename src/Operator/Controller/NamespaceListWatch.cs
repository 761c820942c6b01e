using k8s;
using k8s.Models;

namespace MailRelay.Operator.Controller;

/// <summary>List and watch of all Namespaces: their labels decide which MailDomain namespaceSelectors grant them.</summary>
public sealed class NamespaceListWatch(IKubernetes client) : IListWatch<V1Namespace>
{
    /// <inheritdoc />
    public async Task<(IReadOnlyList<V1Namespace> Items, string ResourceVersion)> ListAsync(CancellationToken ct)
    {
        var list = await client.CoreV1.ListNamespaceAsync(cancellationToken: ct);
        return (list.Items.ToList(), list.Metadata.ResourceVersion);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<(WatchEventType Type, V1Namespace Object)> WatchAsync(string resourceVersion, TimeSpan timeout, Action<Exception> onError, CancellationToken ct) =>
        client.CoreV1.WatchListNamespaceAsync(
            allowWatchBookmarks: true, resourceVersion: resourceVersion,
            timeoutSeconds: (int)timeout.TotalSeconds, onError: onError, cancellationToken: ct);
}
