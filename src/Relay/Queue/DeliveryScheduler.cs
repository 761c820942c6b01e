using System.Threading.Channels;
using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Config;
using MailRelay.Relay.Delivery;
using MailRelay.Relay.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailRelay.Relay.Queue;

/// <summary>
/// Runs the queue: at start every spooled message is scheduled at once; each attempt groups the
/// pending recipients by the route in force now, makes one delivery per (message, route), records
/// each recipient's outcome durably, and reschedules with backoff while any is pending.
/// </summary>
public sealed class DeliveryScheduler(
    Spool spool,
    RelayConfigStore config,
    RelayAgent relay,
    DirectAgent direct,
    RetryPolicy retry,
    int concurrency,
    TimeProvider time,
    ILogger<DeliveryScheduler> logger) : BackgroundService, IDeliveryQueue
{
    private readonly Lock _lock = new();
    private readonly PriorityQueue<QueueEntry, DateTimeOffset> _waiting = new();
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly Channel<QueueEntry> _due = Channel.CreateUnbounded<QueueEntry>();
    private readonly SemaphoreSlim _wake = new(0);

    /// <inheritdoc />
    public void Enqueue(QueueEntry entry) => Schedule(entry, entry.NextAttemptAt, isNew: true);

    /// <summary>
    /// Loads the spool before returning, so before the SMTP listener (started after this service)
    /// accepts anything: the scan's removal of unacknowledged files never meets a message in flight.
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in spool.LoadAll(w => logger.LogWarning("{Warning}", w)))
        {
            Schedule(entry, time.GetUtcNow(), isNew: true); // picked up again at start
        }

        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var workers = Enumerable.Range(0, concurrency).Select(_ => WorkAsync(stoppingToken)).ToList();
        try
        {
            await DispatchAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        _due.Writer.TryComplete();
        await Task.WhenAll(workers);
    }

    private void Schedule(QueueEntry entry, DateTimeOffset at, bool isNew)
    {
        lock (_lock)
        {
            if (isNew && !_known.Add(entry.Id))
            {
                return;
            }

            _waiting.Enqueue(entry, at);
            RelayMetrics.QueueDepth.Set(_known.Count);
        }

        _wake.Release();
    }

    private async Task DispatchAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TimeSpan wait;
            lock (_lock)
            {
                var now = time.GetUtcNow();
                while (_waiting.TryPeek(out var entry, out var at) && at <= now)
                {
                    _waiting.Dequeue();
                    _due.Writer.TryWrite(entry);
                }

                wait = _waiting.TryPeek(out _, out var next) ? next - now : TimeSpan.FromMinutes(1);
            }

            await _wake.WaitAsync(wait < TimeSpan.Zero ? TimeSpan.Zero : wait > TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : wait, ct);
        }
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        await foreach (var entry in _due.Reader.ReadAllAsync(CancellationToken.None))
        {
            if (ct.IsCancellationRequested)
            {
                continue; // stays on disk; picked up at the next start
            }

            try
            {
                await AttemptAsync(entry, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
            catch (FileNotFoundException)
            {
                Quarantine(entry, "its message file is missing");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogError("Queue entry {Id} could not be processed: {Error}; retrying later", entry.Id, e.Message);
                Schedule(entry, time.GetUtcNow() + retry.Min, isNew: false);
            }
            catch (Exception e)
            {
                // No message, however malformed, may stop a worker: it is set aside and the worker goes on.
                Quarantine(entry, $"{e.GetType().Name}: {e.Message}");
            }
        }
    }

    private async Task AttemptAsync(QueueEntry entry, CancellationToken ct)
    {
        var current = config.Current;
        if (current is null)
        {
            Schedule(entry, time.GetUtcNow() + TimeSpan.FromSeconds(5), isNew: false);
            return;
        }

        if (!spool.HasMessage(entry.Id))
        {
            Quarantine(entry, "its message file is missing");
            return;
        }

        var sender = EnvelopeAddress.Parse(entry.Sender);
        var groups = entry.Recipients
            .Where(r => r.State == RecipientState.Pending)
            .GroupBy(r => current.Resolver.Resolve(sender, EnvelopeAddress.Parse(r.Address)), r => r, new RouteNameComparer());

        foreach (var group in groups)
        {
            var decision = group.Key;
            var recipients = group.ToList();
            IReadOnlyList<RecipientResult> results;
            if (decision.Action == RouteAction.Reject)
            {
                var message = decision.Winner?.Route.RejectMessage ?? Routing.RouteResolver.NoRouteRejectMessage;
                results = recipients.Select(r => RecipientResult.Failed(r.Address, "rejected by route " + decision.RouteName + ": " + message)).ToList();
            }
            else
            {
                var request = new DeliveryRequest(entry.Id, spool.MessagePath(entry.Id), entry.Sender, recipients.Select(r => r.Address).ToList(), decision.Winner?.Route.Relay, decision.RouteName);
                IDeliveryAgent agent = decision.Action == RouteAction.Relay ? relay : direct;
                results = await agent.DeliverAsync(request, current.Credentials, ct);
            }

            Apply(entry, recipients, results, decision.RouteName);
        }

        entry.Attempts++;
        var now = time.GetUtcNow();
        if (!entry.IsDone && retry.Expired(entry.ReceivedAt, now))
        {
            foreach (var r in entry.Recipients.Where(r => r.State == RecipientState.Pending))
            {
                r.State = RecipientState.Failed;
                r.LastResult = $"expired after {retry.MaxLifetime} in the queue; last error: {r.LastResult}";
                RelayMetrics.Failed.WithLabels(r.Route ?? "(unknown)").Inc();
            }
        }

        if (entry.IsDone)
        {
            spool.Remove(entry.Id);
            lock (_lock)
            {
                _known.Remove(entry.Id);
                RelayMetrics.QueueDepth.Set(_known.Count);
            }

            foreach (var failed in entry.Recipients.Where(r => r.State == RecipientState.Failed))
            {
                logger.LogWarning("Message {Id} to <{Recipient}> failed permanently: {Detail}", entry.Id, failed.Address, failed.LastResult);
            }

            return;
        }

        entry.NextAttemptAt = now + retry.DelayAfter(entry.Attempts);
        await spool.UpdateAsync(entry, CancellationToken.None);
        Schedule(entry, entry.NextAttemptAt, isNew: false);
    }

    private void Quarantine(QueueEntry entry, string reason)
    {
        logger.LogError("Message {Id} from <{Sender}> cannot be processed ({Reason}); moved to the quarantine", entry.Id, entry.Sender, reason);
        try
        {
            spool.Quarantine(entry.Id, reason);
        }
        catch (IOException e)
        {
            logger.LogError("Message {Id} could not be moved to the quarantine: {Error}", entry.Id, e.Message);
        }

        RelayMetrics.Quarantined.Inc();
        lock (_lock)
        {
            _known.Remove(entry.Id);
            RelayMetrics.QueueDepth.Set(_known.Count);
        }
    }

    private void Apply(QueueEntry entry, List<QueueRecipient> recipients, IReadOnlyList<RecipientResult> results, string route)
    {
        var byAddress = results.ToDictionary(r => r.Address, StringComparer.OrdinalIgnoreCase);
        var delivered = 0;
        var deferred = 0;
        var failed = 0;
        foreach (var recipient in recipients)
        {
            recipient.Route = route;
            if (!byAddress.TryGetValue(recipient.Address, out var result))
            {
                recipient.LastResult = "no result from the delivery agent";
                deferred++;
                continue;
            }

            recipient.State = result.State;
            recipient.LastResult = result.Detail;
            switch (result.State)
            {
                case RecipientState.Delivered: delivered++; break;
                case RecipientState.Failed: failed++; break;
                default: deferred++; break;
            }
        }

        if (delivered > 0)
        {
            RelayMetrics.Delivered.WithLabels(route).Inc();
            RelayMetrics.DeliveryLatency.WithLabels(route).Observe((time.GetUtcNow() - entry.ReceivedAt).TotalSeconds);
        }

        if (deferred > 0)
        {
            RelayMetrics.Deferred.WithLabels(route).Inc();
        }

        if (failed > 0)
        {
            RelayMetrics.Failed.WithLabels(route).Inc();
        }

        logger.LogInformation(
            "Delivery of {Id} via route {Route}: {Delivered} delivered, {Deferred} deferred, {Failed} failed ({Detail})",
            entry.Id, route, delivered, deferred, failed, results.FirstOrDefault()?.Detail);
    }

    private sealed class RouteNameComparer : IEqualityComparer<Routing.RouteDecision>
    {
        public bool Equals(Routing.RouteDecision? x, Routing.RouteDecision? y) => x?.RouteName == y?.RouteName;

        public int GetHashCode(Routing.RouteDecision obj) => obj.RouteName.GetHashCode(StringComparison.Ordinal);
    }
}
