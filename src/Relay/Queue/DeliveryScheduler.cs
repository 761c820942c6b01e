using System.Threading.Channels;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Bounce;
using MailRelay.Relay.Config;
using MailRelay.Relay.Delivery;
using MailRelay.Relay.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace MailRelay.Relay.Queue;

/// <summary>
/// Runs the queue: timers, workers and the spool. At start every spooled message is scheduled at
/// once. An attempt is planned by the pure <see cref="AttemptPlanner"/> (the route of each pending
/// recipient, decided once), carried out by the delivery agents (one delivery per route), and
/// recorded by the pure <see cref="OutcomeRecorder"/>; the entry is then written durably and
/// rescheduled with backoff while any recipient is pending. Mail a hold route keeps is listed in a
/// <see cref="HeldIndex"/>: when a new routing table no longer holds it, it is tried at once
/// instead of at its backoff slot.
/// </summary>
public sealed class DeliveryScheduler(
    Spool spool,
    RelayConfigStore config,
    RelayAgent relay,
    DirectAgent direct,
    RetryPolicy retry,
    DestinationGate destinations,
    int concurrency,
    string hostName,
    TimeProvider time,
    ILogger<DeliveryScheduler> logger) : BackgroundService, IDeliveryQueue
{
    private readonly Lock _lock = new();
    private readonly PriorityQueue<QueueEntry, DateTimeOffset> _waiting = new();
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    // When each waiting entry is due; an entry in an attempt is not here. A copy in _waiting whose
    // time is not this one is stale (the entry was woken earlier) and is skipped.
    private readonly Dictionary<string, (QueueEntry Entry, DateTimeOffset At)> _dueAt = new(StringComparer.Ordinal);
    private readonly HeldIndex _held = new();
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
        config.Changed += ReleaseHeld;
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

    /// <inheritdoc />
    public override Task StopAsync(CancellationToken cancellationToken)
    {
        config.Changed -= ReleaseHeld;
        return base.StopAsync(cancellationToken);
    }

    private void Schedule(QueueEntry entry, DateTimeOffset at, bool isNew)
    {
        lock (_lock)
        {
            if (isNew && !_known.Add(entry.Id))
            {
                return;
            }

            ScheduleLocked(entry, at);
        }

        _wake.Release();
    }

    private void ScheduleLocked(QueueEntry entry, DateTimeOffset at)
    {
        _dueAt[entry.Id] = (entry, at);
        _waiting.Enqueue(entry, at);
        RelayMetrics.QueueDepth.Set(_known.Count);
    }

    /// <summary>
    /// After an attempt: the entry's held state into the index (and the gauge), then the next
    /// attempt: at once when the table in force now no longer holds it (it changed during the
    /// attempt), else at its backoff slot, where a later table change (<see cref="ReleaseHeld"/>) finds it.
    /// </summary>
    private void Reschedule(QueueEntry entry, string plannedWith)
    {
        var held = HeldMessage.Of(entry);
        lock (_lock)
        {
            ReportHeld(_held.Set(entry.Id, held));
            var at = entry.NextAttemptAt;
            if (held is not null && config.Current is { } current && current.Version != plannedWith && held.ReleasedBy(current.Resolver))
            {
                at = time.GetUtcNow();
            }

            ScheduleLocked(entry, at);
        }

        _wake.Release();
    }

    /// <summary>A new routing table: every waiting message it no longer holds is tried at once.</summary>
    private void ReleaseHeld(RelayConfig current)
    {
        var released = 0;
        lock (_lock)
        {
            var now = time.GetUtcNow();
            foreach (var held in _held.Messages)
            {
                // An entry in an attempt is not waiting: Reschedule checks it against the new table.
                if (_dueAt.TryGetValue(held.Id, out var due) && due.At > now && held.ReleasedBy(current.Resolver))
                {
                    ScheduleLocked(due.Entry, now);
                    released++;
                }
            }
        }

        if (released > 0)
        {
            logger.LogInformation("Routing table version {Version} releases {Count} held message(s): trying them now", current.Version, released);
            _wake.Release();
        }
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
                    if (_dueAt.TryGetValue(entry.Id, out var due) && due.At == at)
                    {
                        _dueAt.Remove(entry.Id); // in an attempt now
                        _due.Writer.TryWrite(entry);
                    }

                    // else a stale copy: the entry was woken earlier, or has left the queue
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

        var plan = AttemptPlanner.Plan(entry, current.Resolver, spool.HasMessage(entry.Id));
        if (plan.QuarantineReason is { } reason)
        {
            Quarantine(entry, reason);
            return;
        }

        // One slow or unreachable next hop must not take every worker (DestinationGate): a suspended
        // destination's mail is deferred at once; a busy one parks the entry until a slot frees.
        var results = new List<RouteResults>(plan.Decided);
        var deliveries = new List<(PlannedDelivery Delivery, string Destination)>();
        foreach (var (delivery, destination) in DestinationGate.Split(plan.Deliveries))
        {
            if (destinations.Suspension(destination) is { } suspended)
            {
                results.Add(OutcomeRecorder.Complete(delivery.Decision.RouteName, delivery.Recipients, delivery.Recipients.Select(r => RecipientResult.Deferred(r, suspended)).ToList()));
            }
            else
            {
                deliveries.Add((delivery, destination));
            }
        }

        var slots = deliveries.Select(d => d.Destination).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (!destinations.TryEnter(slots, entry))
        {
            return; // parked: back in the queue when a slot on its destination frees
        }

        try
        {
            await DeliverAsync(entry, deliveries, current, results, ct);
        }
        finally
        {
            foreach (var woken in destinations.Exit(slots))
            {
                _due.Writer.TryWrite(woken);
            }
        }

        var outcome = OutcomeRecorder.Record(entry, results, time.GetUtcNow(), retry);
        Report(entry, outcome);
        if (outcome.NewlyFailed.Count > 0)
        {
            await BounceAsync(entry, outcome.NewlyFailed); // on disk before the failure is recorded
        }

        if (outcome.Delayed.Count > 0)
        {
            await BounceAsync(entry, outcome.Delayed, delayed: true); // on disk before the warning is recorded as sent
        }

        if (outcome.Done)
        {
            spool.Remove(entry.Id);
            Forget(entry);

            return;
        }

        await spool.UpdateAsync(entry, CancellationToken.None);
        Reschedule(entry, current.Version);
    }

    /// <summary>
    /// Hands each delivery to its agent. A destination that could not be reached at all (every
    /// recipient deferred as unreachable) is suspended for <c>--retry-min</c>; one that answered is not.
    /// </summary>
    private async Task DeliverAsync(QueueEntry entry, List<(PlannedDelivery Delivery, string Destination)> deliveries, RelayConfig current, List<RouteResults> results, CancellationToken ct)
    {
        foreach (var (delivery, destination) in deliveries)
        {
            var decision = delivery.Decision;
            var request = new DeliveryRequest(entry.Id, spool.MessagePath(entry.Id), entry.Sender, delivery.Recipients, decision.Winner?.Route.Relay, decision.RouteName) { Utf8 = entry.Utf8 };
            IDeliveryAgent agent = decision.Action switch
            {
                RouteAction.Relay => relay,
                RouteAction.Direct => direct,
                _ => throw new InvalidOperationException($"route {decision.RouteName}: a {decision.Action} route is settled by the plan, never delivered"),
            };
            var agentResults = await agent.DeliverAsync(request, current.Credentials, ct);
            if (agentResults.Count > 0 && agentResults.All(r => r.Unreachable))
            {
                destinations.Unreachable(destination, retry.Min, agentResults[0].Detail);
                logger.LogWarning("Next hop {Destination} could not be reached: its mail is deferred without trying until {Until} ({Detail})", destination, time.GetUtcNow() + retry.Min, agentResults[0].Detail);
            }
            else
            {
                destinations.Reached(destination);
            }

            results.Add(OutcomeRecorder.Complete(decision.RouteName, delivery.Recipients, agentResults));
        }
    }

    /// <summary>Metrics and log lines for an attempt's outcome: they report it, they decide nothing.</summary>
    private void Report(QueueEntry entry, AttemptOutcome outcome)
    {
        foreach (var tally in outcome.Routes)
        {
            if (tally.Delivered > 0)
            {
                RelayMetrics.Delivered.WithLabels(tally.Route).Inc();
                RelayMetrics.DeliveryLatency.WithLabels(tally.Route).Observe((time.GetUtcNow() - entry.ReceivedAt).TotalSeconds);
            }

            if (tally.Deferred > 0)
            {
                RelayMetrics.Deferred.WithLabels(tally.Route).Inc();
            }

            if (tally.Failed > 0)
            {
                RelayMetrics.Failed.WithLabels(tally.Route).Inc();
            }

            logger.LogInformation(
                "Delivery of {Id} via route {Route}: {Delivered} delivered, {Deferred} deferred, {Failed} failed ({Detail})",
                entry.Id, tally.Route, tally.Delivered, tally.Deferred, tally.Failed, tally.Detail);
        }

        foreach (var expired in outcome.Expired)
        {
            RelayMetrics.Failed.WithLabels(expired.Route ?? "(unknown)").Inc();
        }

        foreach (var failed in outcome.NewlyFailed)
        {
            logger.LogWarning("Message {Id} to <{Recipient}> failed permanently: {Detail}", entry.Id, failed.Address, failed.LastResult);
        }
    }

    /// <summary>Queues the delivery status notice for recipients that failed for good (never for the null sender).</summary>
    private async Task BounceAsync(QueueEntry entry, IReadOnlyList<QueueRecipient> failed, bool delayed = false)
    {
        if (!DeliveryStatusNotice.IsWanted(entry.Sender))
        {
            logger.LogInformation("No {Kind} for {Id}: its sender is the null sender", delayed ? "delay warning" : "bounce", entry.Id);
            return;
        }

        var now = time.GetUtcNow();
        using var bytes = new MemoryStream();
        await using (var stream = File.OpenRead(spool.MessagePath(entry.Id)))
        {
            // Persistent: the original's body stays on disk (read only for RET=FULL), not copied into memory.
            using var original = await MimeMessage.LoadAsync(stream, persistent: true);
            var request = new BounceRequest(entry.Id, entry.Sender, entry.ReceivedAt, failed, entry.ReturnFull, hostName, now)
            {
                Delayed = delayed,
                RetryUntil = delayed ? entry.ReceivedAt + retry.MaxLifetime : null,
            };
            var notice = DeliveryStatusNotice.Compose(request, original);
            await notice.WriteToAsync(FormatOptions.Default, bytes);
        }

        var bounce = new QueueEntry
        {
            Id = Spool.NewId(),
            ReceivedAt = now,
            Sender = string.Empty,
            Recipients = [new QueueRecipient { Address = entry.Sender }],
            NextAttemptAt = now,
            Client = "bounce of " + entry.Id,
        };
        await spool.AcceptAsync(bounce, ReadOnlyMemory<byte>.Empty, new System.Buffers.ReadOnlySequence<byte>(bytes.GetBuffer(), 0, (int)bytes.Length), CancellationToken.None);
        (delayed ? RelayMetrics.DelayWarnings : RelayMetrics.Bounces).Inc();
        logger.LogInformation(
            delayed ? "Delay warning {BounceId} for {Id} queued to <{Sender}> ({Count} recipient(s) still pending)" : "Bounce {BounceId} for {Id} queued to <{Sender}> ({Count} recipient(s) failed)",
            bounce.Id, entry.Id, entry.Sender, failed.Count);
        Enqueue(bounce);
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
        Forget(entry);
    }

    /// <summary>The entry has left the queue.</summary>
    private void Forget(QueueEntry entry)
    {
        lock (_lock)
        {
            _known.Remove(entry.Id);
            _dueAt.Remove(entry.Id);
            ReportHeld(_held.Set(entry.Id, null));
            RelayMetrics.QueueDepth.Set(_known.Count);
        }
    }

    /// <summary>The gauge of held messages for the routes whose count changed (a route that holds nothing is removed).</summary>
    private void ReportHeld(IReadOnlyCollection<string> routes)
    {
        foreach (var route in routes)
        {
            var count = _held.CountFor(route);
            if (count == 0)
            {
                RelayMetrics.HeldMessages.RemoveLabelled(route);
            }
            else
            {
                RelayMetrics.HeldMessages.WithLabels(route).Set(count);
            }
        }
    }
}
