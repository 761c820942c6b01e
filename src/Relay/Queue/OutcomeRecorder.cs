using MailRelay.Relay.Delivery;

namespace MailRelay.Relay.Queue;

/// <summary>
/// The pure last step of a delivery attempt (Postfix's qmgr bookkeeping before bounce): the
/// results of each route applied to the entry's recipients, the attempt counted, recipients still
/// pending past the queue lifetime failed, the next attempt scheduled by the retry policy, and,
/// once per message, the recipients whose sender is to be warned of the delay.
/// </summary>
public static class OutcomeRecorder
{
    /// <summary>Applies <paramref name="results"/> to <paramref name="entry"/> (its recipients, attempts and next attempt) and says what changed.</summary>
    public static AttemptOutcome Record(QueueEntry entry, IReadOnlyList<RouteResults> results, DateTimeOffset now, RetryPolicy retry)
    {
        var pending = entry.Recipients.Where(r => r.State == RecipientState.Pending)
            .GroupBy(r => r.Address, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => new Queue<QueueRecipient>(g), StringComparer.OrdinalIgnoreCase);
        var tallies = new List<RouteTally>();
        var newlyFailed = new List<QueueRecipient>();
        foreach (var group in results)
        {
            int delivered = 0, deferred = 0, failed = 0;
            foreach (var result in group.Results)
            {
                if (!pending.TryGetValue(result.Address, out var same) || !same.TryDequeue(out var recipient))
                {
                    continue; // not a pending recipient of this entry: nothing to record
                }

                recipient.Route = group.Route;
                recipient.State = result.State;
                recipient.LastResult = result.Detail;
                recipient.Held = result.Held && result.State == RecipientState.Pending;
                switch (result.State)
                {
                    case RecipientState.Delivered: delivered++; break;
                    case RecipientState.Failed: failed++; newlyFailed.Add(recipient); break;
                    default: deferred++; break;
                }
            }

            tallies.Add(new RouteTally(group.Route, delivered, deferred, failed, group.Results.FirstOrDefault()?.Detail));
        }

        entry.Attempts++;
        var expired = new List<QueueRecipient>();
        if (!entry.IsDone && retry.Expired(entry.ReceivedAt, now))
        {
            foreach (var recipient in entry.Recipients.Where(r => r.State == RecipientState.Pending))
            {
                recipient.State = RecipientState.Failed;
                recipient.Held = false;
                recipient.LastResult = $"expired after {retry.MaxLifetime} in the queue; last error: {recipient.LastResult}";
                expired.Add(recipient);
                newlyFailed.Add(recipient);
            }
        }

        if (entry.IsDone)
        {
            return new AttemptOutcome(tallies, newlyFailed, expired, true, null);
        }

        entry.NextAttemptAt = now + retry.DelayAfter(entry.Attempts);
        IReadOnlyList<QueueRecipient> delayed = [];
        if (!entry.DelayWarned && retry.DelayWarningDue(entry.ReceivedAt, now))
        {
            entry.DelayWarned = true;
            delayed = entry.Recipients.Where(r => r.State == RecipientState.Pending).ToList();
        }

        return new AttemptOutcome(tallies, newlyFailed, expired, false, entry.NextAttemptAt) { Delayed = delayed };
    }

    /// <summary>
    /// An agent's results for the recipients it was given, one each: a recipient the agent said
    /// nothing about is deferred, never lost.
    /// </summary>
    public static RouteResults Complete(string route, IReadOnlyList<string> recipients, IReadOnlyList<RecipientResult> results)
    {
        var byAddress = results.GroupBy(r => r.Address, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        return new RouteResults(route, recipients
            .Select(r => byAddress.TryGetValue(r, out var result) ? result : RecipientResult.Deferred(r, "no result from the delivery agent"))
            .ToList());
    }
}
