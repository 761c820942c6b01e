using System.Diagnostics;
using k8s;
using k8s.Models;
using MailRelay.Operator.Cli;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;
using Microsoft.Extensions.Logging;

namespace MailRelay.Operator.Controller;

/// <summary>
/// Runs while this instance leads: informers for MailRoutes, RelayCredentials and the Secrets
/// they reference, MailDomains and Namespaces feed one coalescing queue; every event (and the periodic resync) leads to one
/// reconcile of the whole state. Failed reconciles are retried with backoff.
/// </summary>
public sealed class MailRelayController(IKubernetes client, OperatorOptions options, ILoggerFactory loggers)
{
    private const long CompactAfterBytes = 64L * 1024 * 1024;
    private static readonly TimeSpan QuietBeforeCompaction = TimeSpan.FromSeconds(5);
    private readonly ILogger _logger = loggers.CreateLogger<MailRelayController>();
    private readonly CompactionSchedule _compaction = new(CompactAfterBytes);

    /// <summary>True once the first reconcile after the caches synced finished.</summary>
    public bool Ready { get; private set; }

    /// <summary>Runs until <paramref name="ct"/> is cancelled (leadership lost or shutdown).</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var queue = new CoalescingQueue();
        // A status-only update (the operator's own, mostly) does not change the table: only a new generation, an add or a delete does.
        var routes = new Informer<MailRoute>("mailroutes", new CustomResourceListWatch<MailRoute>(client, "mailroutes"), _logger, options.WatchTimeout)
        {
            Significant = (old, now) => old.Metadata.Generation != now.Metadata.Generation,
        };
        var credentials = new Informer<RelayCredential>("relaycredentials", new CustomResourceListWatch<RelayCredential>(client, "relaycredentials"), _logger, options.WatchTimeout);
        using var secrets = new SecretWatchSet(client, queue.Add, _logger);
        var tenancy = new TenancyInformers(client, options, _logger);
        var identitySecrets = new Informer<V1Secret>("sending-identity secrets", new LabelledSecretListWatch(client, IdentityWriter.Selector), _logger, options.WatchTimeout);
        identitySecrets.Changed += queue.Add;

        // The user's certificate Secret (--relay-tls-source-secret), by name: a renewal (cert-manager) reaches the relay at once.
        var tlsSource = string.IsNullOrEmpty(options.RelayTlsSourceSecret) ? null
            : new Informer<V1Secret>($"secret {options.Namespace}/{options.RelayTlsSourceSecret}", new SecretListWatch(client, options.Namespace, options.RelayTlsSourceSecret), _logger, options.WatchTimeout);
        if (tlsSource is not null)
        {
            tlsSource.Changed += queue.Add;
        }

        routes.Changed += queue.Add;
        credentials.Changed += queue.Add;
        tenancy.Changed += queue.Add;
        var reconciler = new Reconciler(client, options, loggers.CreateLogger<Reconciler>());

        var informers = Task.WhenAll(Task.Run(() => routes.RunAsync(ct), ct), Task.Run(() => credentials.RunAsync(ct), ct), tenancy.RunAsync(ct), Task.Run(() => identitySecrets.RunAsync(ct), ct), tlsSource is null ? Task.CompletedTask : Task.Run(() => tlsSource.RunAsync(ct), ct));
        using var resync = new PeriodicTimer(options.ResyncPeriod);
        _ = Task.Run(async () =>
        {
            while (await resync.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                queue.Add();
            }
        }, ct).ContinueWith(_ => { }, TaskScheduler.Default);

        var failures = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await queue.WaitAsync(ct);
                if (!routes.HasSynced || !credentials.HasSynced || !tenancy.HasSynced || !identitySecrets.HasSynced || tlsSource?.HasSynced == false)
                {
                    continue; // the first list of each informer enqueues again
                }

                secrets.Sync(credentials.Items.Select(c => (ResourceKey.Namespace(c), c.Spec.SecretRef.Name)).Where(k => k.Item2.Length > 0), ct);
                if (!secrets.HasSynced)
                {
                    queue.AddAfter(TimeSpan.FromMilliseconds(200), ct);
                    continue;
                }

                _compaction.Started();
                var watch = Stopwatch.StartNew();
                var allocated = GC.GetTotalAllocatedBytes();
                try
                {
                    var routesVersion = routes.Version;
                    var result = await reconciler.ReconcileAsync(tenancy.Complete(routes.Items, credentials.Items, secrets.Secrets) with { IdentitySecrets = identitySecrets.Items }, ct, () => routes.Version != routesVersion);
                    OperatorMetrics.Reconciles.WithLabels("success").Inc();
                    failures = 0;
                    Ready = true;
                    if (result.RequeueAfter is { } after)
                    {
                        queue.AddAfter(after, ct);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    failures++;
                    var backoff = TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * Math.Pow(2, Math.Min(failures, 10))));
                    OperatorMetrics.Reconciles.WithLabels("error").Inc();
                    _logger.LogWarning("Reconcile failed ({Error}); retrying in {Backoff}", Describe(e), backoff);
                    queue.AddAfter(backoff, ct);
                }
                finally
                {
                    OperatorMetrics.ReconcileDuration.Observe(watch.Elapsed.TotalSeconds);
                    if (_compaction.Reconciled(GC.GetTotalAllocatedBytes() - allocated) is { } ticket)
                    {
                        CompactWhenQuiet(ticket, queue, ct);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }

        Ready = false;
        await informers.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>
    /// After a burst (a large apply: many reconciles of many routes, tens of MB of tables and lists each),
    /// the heap keeps the garbage's pages until the next collection, which an idle operator never makes.
    /// Once no reconcile has been asked for 5 s, one aggressive, compacting collection returns them:
    /// the operator's RSS then reflects what it caches (issue 11, B8).
    /// </summary>
    private void CompactWhenQuiet(int ticket, CoalescingQueue queue, CancellationToken ct)
    {
        _ = Task.Delay(QuietBeforeCompaction, ct).ContinueWith(t =>
        {
            if (!t.IsCanceled && _compaction.ShouldCompact(ticket, queue.Pending))
            {
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }
        }, TaskScheduler.Default);
    }

    private static string Describe(Exception e) => e is k8s.Autorest.HttpOperationException h
        ? $"HTTP {(int)h.Response.StatusCode} {h.Response.ReasonPhrase}: {Truncate(h.Response.Content)}"
        : $"{e.GetType().Name}: {e.Message}";

    private static string Truncate(string? s) => s is null ? string.Empty : s.Length > 300 ? s[..300] : s;
}
