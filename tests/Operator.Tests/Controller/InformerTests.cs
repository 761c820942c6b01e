using System.Runtime.CompilerServices;
using k8s;
using k8s.Models;
using MailRelay.Operator.Controller;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailRelay.Operator.Tests.Controller;

/// <summary>
/// The informer's protocol with a scripted list/watch source: watch from the list's
/// resourceVersion, continue from the last seen one when a watch ends, relist on 410 Gone (an
/// ERROR event inside the stream) and after errors. The real API server is exercised by the
/// end-to-end tests; a 410 cannot be provoked there on demand.
/// </summary>
public class InformerTests
{
    [Fact]
    public async Task Watches_continue_from_the_last_resourceVersion_and_410_Gone_relists()
    {
        var source = new ScriptedSource();
        source.Lists.Enqueue(([Secret("a", "10")], "10"));
        source.Watches.Enqueue(Watch.Of((WatchEventType.Added, Secret("b", "11")), (WatchEventType.Modified, Secret("a", "12"))));
        source.Watches.Enqueue(Watch.Gone());
        source.Lists.Enqueue(([Secret("c", "20")], "20"));
        source.Watches.Enqueue(Watch.Of((WatchEventType.Deleted, Secret("c", "21"))));

        var informer = new Informer<V1Secret>("test", source, NullLogger.Instance, TimeSpan.FromSeconds(5));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        source.Exhausted += cts.Cancel;
        await informer.RunAsync(cts.Token);

        Assert.Equal(["10", "12", "20", "21"], source.WatchedFrom); // continue, continue, relist after 410, continue
        Assert.Equal(2, source.ListCalls);
        Assert.Empty(informer.Items); // relisted after 410: only c, then c deleted
    }

    [Fact]
    public async Task An_error_relists_with_backoff_and_the_cache_recovers()
    {
        var source = new ScriptedSource();
        source.Lists.Enqueue(([Secret("a", "1")], "1"));
        source.Watches.Enqueue(Watch.Throws(new HttpRequestException("connection refused")));
        source.Lists.Enqueue(([Secret("a", "5"), Secret("b", "5")], "5"));

        var informer = new Informer<V1Secret>("test", source, NullLogger.Instance, TimeSpan.FromSeconds(5));
        var changes = 0;
        informer.Changed += () => changes++;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        source.Exhausted += cts.Cancel;
        await informer.RunAsync(cts.Token);

        Assert.Equal(2, source.ListCalls);
        Assert.Equal(["a", "b"], informer.Items.Select(s => s.Metadata.Name).Order());
        Assert.True(changes >= 2);
    }

    private static V1Secret Secret(string name, string rv) => new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "ns", ResourceVersion = rv } };

    private sealed record Watch(IReadOnlyList<(WatchEventType, V1Secret)> Events, bool IsGone, Exception? Error)
    {
        public static Watch Of(params (WatchEventType, V1Secret)[] events) => new(events, false, null);

        public static Watch Gone() => new([], true, null);

        public static Watch Throws(Exception e) => new([], false, e);
    }

    private sealed class ScriptedSource : IListWatch<V1Secret>
    {
        public Queue<(IReadOnlyList<V1Secret>, string)> Lists { get; } = new();

        public Queue<Watch> Watches { get; } = new();

        public List<string> WatchedFrom { get; } = [];

        /// <summary>List calls answered (the last, unscripted one ends the test).</summary>
        public int ListCalls { get; private set; }

        public event Action? Exhausted;

        public Task<(IReadOnlyList<V1Secret> Items, string ResourceVersion)> ListAsync(CancellationToken ct)
        {
            if (Lists.Count == 0)
            {
                Exhausted?.Invoke();
                throw new OperationCanceledException(ct);
            }

            ListCalls++;
            return Task.FromResult(Lists.Dequeue());
        }

        public async IAsyncEnumerable<(WatchEventType Type, V1Secret Object)> WatchAsync(string resourceVersion, TimeSpan timeout, Action<Exception> onError, [EnumeratorCancellation] CancellationToken ct)
        {
            WatchedFrom.Add(resourceVersion);
            if (Watches.Count == 0)
            {
                Exhausted?.Invoke();
                await Task.Delay(Timeout.Infinite, ct);
                yield break;
            }

            var watch = Watches.Dequeue();
            if (watch.Error is { } error)
            {
                throw error;
            }

            foreach (var e in watch.Events)
            {
                yield return e;
            }

            if (watch.IsGone)
            {
                onError(new KubernetesException(new V1Status { Code = 410, Reason = "Expired", Message = "too old resource version" }));
            }
        }
    }
}
