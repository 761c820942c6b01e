namespace MailRelay.Relay.Queue;

/// <summary>What one route did for a message in one attempt, for metrics and the log.</summary>
/// <param name="Route">The route's name.</param>
/// <param name="Delivered">Recipients the next hop accepted.</param>
/// <param name="Deferred">Recipients to try again.</param>
/// <param name="Failed">Recipients that failed permanently.</param>
/// <param name="Detail">The first result's detail (a reply or an error).</param>
public sealed record RouteTally(string Route, int Delivered, int Deferred, int Failed, string? Detail);

/// <summary>What an attempt changed in a queue entry.</summary>
/// <param name="Routes">One tally per route tried or decided.</param>
/// <param name="NewlyFailed">Recipients that failed permanently in this attempt, expiry included (for the log, and bounces).</param>
/// <param name="Expired">Those of them that failed because the message stayed queued too long.</param>
/// <param name="Done">True when no recipient is pending: the message leaves the queue.</param>
/// <param name="NextAttemptAt">When to try again; null when done.</param>
public sealed record AttemptOutcome(
    IReadOnlyList<RouteTally> Routes,
    IReadOnlyList<QueueRecipient> NewlyFailed,
    IReadOnlyList<QueueRecipient> Expired,
    bool Done,
    DateTimeOffset? NextAttemptAt)
{
    /// <summary>Recipients still pending whose sender is to be warned of the delay now (once per message).</summary>
    public IReadOnlyList<QueueRecipient> Delayed { get; init; } = [];
}
