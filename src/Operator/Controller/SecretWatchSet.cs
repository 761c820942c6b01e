using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace MailRelay.Operator.Controller;

/// <summary>
/// One small informer per Secret that a RelayCredential references (a field selector on its
/// name), started and stopped as references come and go: the operator never lists or caches the
/// cluster's other Secrets.
/// </summary>
public sealed class SecretWatchSet(IKubernetes client, Action changed, ILogger logger) : IDisposable
{
    private readonly Dictionary<(string Namespace, string Name), (Informer<V1Secret> Informer, CancellationTokenSource Stop)> _watches = [];
    private readonly Lock _lock = new();

    /// <summary>Makes the watched set equal to <paramref name="referenced"/>.</summary>
    public void Sync(IEnumerable<(string Namespace, string Name)> referenced, CancellationToken ct)
    {
        var wanted = referenced.ToHashSet();
        lock (_lock)
        {
            foreach (var key in _watches.Keys.Where(k => !wanted.Contains(k)).ToList())
            {
                _watches[key].Stop.Cancel();
                _watches[key].Stop.Dispose();
                _watches.Remove(key);
                changed();
            }

            foreach (var key in wanted.Where(k => !_watches.ContainsKey(k)))
            {
                var informer = new Informer<V1Secret>($"secret {key.Namespace}/{key.Name}", new SecretListWatch(client, key.Namespace, key.Name), logger);
                informer.Changed += changed;
                var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
                _ = Task.Run(() => informer.RunAsync(stop.Token), CancellationToken.None);
                _watches[key] = (informer, stop);
            }
        }
    }

    /// <summary>True when every watched Secret has been listed at least once.</summary>
    public bool HasSynced
    {
        get
        {
            lock (_lock)
            {
                return _watches.Values.All(w => w.Informer.HasSynced);
            }
        }
    }

    /// <summary>The referenced Secrets that exist.</summary>
    public IReadOnlyDictionary<(string Namespace, string Name), V1Secret> Secrets
    {
        get
        {
            lock (_lock)
            {
                var result = new Dictionary<(string, string), V1Secret>();
                foreach (var (key, watch) in _watches)
                {
                    if (watch.Informer.Items.FirstOrDefault() is { } secret)
                    {
                        result[key] = secret;
                    }
                }

                return result;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var watch in _watches.Values)
            {
                watch.Stop.Cancel();
                watch.Stop.Dispose();
            }

            _watches.Clear();
        }
    }
}
