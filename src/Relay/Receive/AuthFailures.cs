using System.Collections.Concurrent;
using System.Net;

namespace MailRelay.Relay.Receive;

/// <summary>
/// Failed SMTP AUTH attempts per client address: each failure within <see cref="Window"/> of the
/// previous one slows that address's next failure reply by one more second (at most
/// <see cref="MaxDelay"/>), like Postfix's error sleep, so guessing passwords gets slow.
/// </summary>
public sealed class AuthFailures(TimeProvider time)
{
    /// <summary>How long a failure is remembered.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    /// <summary>The longest delay before a failure reply.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<IPAddress, (int Count, DateTimeOffset Last)> _byClient = new();

    /// <summary>Records a failure; returns how many the address has now and how long to wait before answering it.</summary>
    public (int Failures, TimeSpan Delay) Record(IPAddress? client)
    {
        if (client is null)
        {
            return (1, TimeSpan.Zero);
        }

        var now = time.GetUtcNow();
        var (count, _) = _byClient.AddOrUpdate(client, _ => (1, now), (_, old) => (now - old.Last > Window ? 1 : old.Count + 1, now));
        var delay = TimeSpan.FromSeconds(Math.Min(count - 1, MaxDelay.TotalSeconds));
        return (count, delay);
    }
}
