namespace MailRelay.Relay.Queue;

/// <summary>Exponential backoff between <c>--retry-min</c> and <c>--retry-max</c> (Postfix: 300 s to 4000 s).</summary>
public sealed record RetryPolicy(TimeSpan Min, TimeSpan Max, TimeSpan MaxLifetime)
{
    /// <summary>The delay after the <paramref name="attempts"/>-th failed attempt (1-based).</summary>
    public TimeSpan DelayAfter(int attempts)
    {
        var factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(Min.Ticks * factor, Max.Ticks));
        return delay < Min ? Min : delay;
    }

    /// <summary>True when a message received at <paramref name="receivedAt"/> has been queued too long.</summary>
    public bool Expired(DateTimeOffset receivedAt, DateTimeOffset now) => now - receivedAt > MaxLifetime;

    /// <summary>After how long in the queue the sender is warned once (zero: never).</summary>
    public TimeSpan DelayWarning { get; init; }

    /// <summary>True when a message received at <paramref name="receivedAt"/> and still pending deserves its delay warning now.</summary>
    public bool DelayWarningDue(DateTimeOffset receivedAt, DateTimeOffset now) => DelayWarning > TimeSpan.Zero && now - receivedAt >= DelayWarning;
}
