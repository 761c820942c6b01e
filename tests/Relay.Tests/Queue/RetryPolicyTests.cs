using MailRelay.Relay.Queue;

namespace MailRelay.Relay.Tests.Queue;

public class RetryPolicyTests
{
    [Fact]
    public void Backoff_doubles_from_min_and_stops_at_max_like_Postfix()
    {
        var policy = new RetryPolicy(TimeSpan.FromSeconds(300), TimeSpan.FromSeconds(4000), TimeSpan.FromDays(5));
        var delays = Enumerable.Range(1, 6).Select(a => policy.DelayAfter(a).TotalSeconds).ToList();
        Assert.Equal([300, 600, 1200, 2400, 4000, 4000], delays);
    }

    [Fact]
    public void Messages_expire_after_the_queue_lifetime()
    {
        var policy = new RetryPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromDays(5));
        var received = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.False(policy.Expired(received, received.AddDays(5)));
        Assert.True(policy.Expired(received, received.AddDays(5).AddSeconds(1)));
    }
}
