using System.Net;
using MailRelay.Relay.Receive;

namespace MailRelay.Relay.Tests.Receive;

public sealed class AuthFailuresTests
{
    [Fact]
    public void Each_failure_of_a_client_slows_its_next_one_by_a_second_up_to_the_cap()
    {
        var clock = new ManualClock();
        var failures = new AuthFailures(clock);
        var client = IPAddress.Parse("10.1.2.3");

        var delays = Enumerable.Range(0, 13).Select(_ => failures.Record(client).Delay.TotalSeconds).ToList();

        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10], delays);
        Assert.Equal(TimeSpan.Zero, failures.Record(IPAddress.Parse("10.9.9.9")).Delay); // another client is not slowed
    }

    [Fact]
    public void A_client_quiet_for_the_window_starts_again()
    {
        var clock = new ManualClock();
        var failures = new AuthFailures(clock);
        var client = IPAddress.Parse("10.1.2.3");
        failures.Record(client);
        failures.Record(client);

        clock.Advance(AuthFailures.Window + TimeSpan.FromSeconds(1));

        Assert.Equal((1, TimeSpan.Zero), failures.Record(client));
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
