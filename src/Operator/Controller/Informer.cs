using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace MailRelay.Operator.Controller;

/// <summary>
/// A cache of one kind of object kept current by list + watch (KubernetesClient has no informer):
/// list, then watch from the list's resourceVersion with a server-side timeout; restart the watch
/// when it ends; relist on 410 Gone (which arrives as an ERROR event in the stream) and after
/// errors, with exponential backoff. A stream silent for longer than the timeout is treated as
/// dead. Every change calls <see cref="Changed"/>.
/// </summary>
public sealed class Informer<T>(string name, IListWatch<T> source, ILogger logger, TimeSpan? watchTimeout = null)
    where T : IKubernetesObject<V1ObjectMeta>
{
    private readonly ConcurrentDictionary<string, T> _cache = new(StringComparer.Ordinal);
    private readonly TimeSpan _watchTimeout = watchTimeout ?? TimeSpan.FromMinutes(5);
    private volatile bool _synced;
    private long _version;

    /// <summary>Raised after the cache changed (list or event).</summary>
    public event Action? Changed;

    /// <summary>True once the first list completed.</summary>
    public bool HasSynced => _synced;

    /// <summary>
    /// Whether a change from the first object to the second matters to the desired state (e.g. not a status-only
    /// update); null: every change does. Counted in <see cref="Version"/>.
    /// </summary>
    public Func<T, T, bool>? Significant { get; init; }

    /// <summary>Grows with every significant change: a reconcile compares it to the one its snapshot had.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>A snapshot of the cached objects.</summary>
    public IReadOnlyList<T> Items => _cache.Values.ToList();

    public async Task RunAsync(CancellationToken ct)
    {
        string? resourceVersion = null;
        var backoff = TimeSpan.FromMilliseconds(500);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    var (items, rv) = await source.ListAsync(ct);
                    _cache.Clear();
                    foreach (var item in items)
                    {
                        _cache[Key(item)] = Trimmed(item);
                    }

                    Interlocked.Increment(ref _version);

                    resourceVersion = rv;
                    _synced = true;
                    Changed?.Invoke();
                }

                resourceVersion = await WatchOnceAsync(resourceVersion, ct);
                backoff = TimeSpan.FromMilliseconds(500);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException or KubernetesException or OperationCanceledException or System.Text.Json.JsonException)
            {
                logger.LogWarning("{Informer}: {Error}; relisting in {Backoff}", name, Describe(e), backoff);
                resourceVersion = null;
                try
                {
                    await Task.Delay(backoff, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    /// <summary>One watch; returns the resourceVersion to continue from, or null to relist.</summary>
    private async Task<string?> WatchOnceAsync(string resourceVersion, CancellationToken ct)
    {
        using var watchCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        watchCts.CancelAfter(_watchTimeout + TimeSpan.FromSeconds(30)); // a silent, half-dead stream
        var gone = false;
        void OnError(Exception e)
        {
            if (e is KubernetesException { Status.Code: (int)HttpStatusCode.Gone })
            {
                gone = true;
            }
            else
            {
                logger.LogWarning("{Informer}: watch error: {Error}", name, Describe(e));
            }

            watchCts.Cancel();
        }

        var rv = resourceVersion;
        try
        {
            await foreach (var (type, item) in source.WatchAsync(resourceVersion, _watchTimeout, OnError, watchCts.Token))
            {
                if (item?.Metadata?.ResourceVersion is { } itemRv)
                {
                    rv = itemRv;
                }

                switch (type)
                {
                    case WatchEventType.Added or WatchEventType.Modified:
                        var key = Key(item!);
                        if (!_cache.TryGetValue(key, out var old) || Significant is null || Significant(old, item!))
                        {
                            Interlocked.Increment(ref _version);
                        }

                        _cache[key] = Trimmed(item!);
                        Changed?.Invoke();
                        break;
                    case WatchEventType.Deleted:
                        _cache.TryRemove(Key(item!), out _);
                        Interlocked.Increment(ref _version);
                        Changed?.Invoke();
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // watch ended by an error or the silence bound: fall through
        }

        if (gone)
        {
            logger.LogInformation("{Informer}: resourceVersion {Rv} is too old (410 Gone); relisting", name, rv);
            return null;
        }

        return rv;
    }

    /// <summary>The object without its managedFields: server-side apply's bookkeeping, often larger than the object, never read here.</summary>
    private static T Trimmed(T item)
    {
        item.Metadata.ManagedFields = null;
        return item;
    }

    private static string Key(T item) => (item.Metadata.NamespaceProperty ?? string.Empty) + "/" + item.Metadata.Name;

    private static string Describe(Exception e) => e switch
    {
        HttpOperationException h => $"HTTP {(int)h.Response.StatusCode} {h.Response.ReasonPhrase}",
        KubernetesException k => $"{k.Status?.Code} {k.Status?.Reason}: {k.Status?.Message}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };
}
