using MailRelay.Relay.Queue;
using Microsoft.Extensions.Time.Testing;

namespace MailRelay.Relay.Tests.Queue;

public sealed class DestinationGateTests
{
    private static QueueEntry Entry(string id) => new() { Id = id, Sender = "a@b.test", Recipients = [] };

    [Fact]
    public void Beyond_the_limit_an_entry_is_parked_and_comes_back_when_a_slot_frees()
    {
        var gate = new DestinationGate(2, TimeProvider.System);
        string[] slow = ["mx:slow.example"];
        Assert.True(gate.TryEnter(slow, Entry("1")));
        Assert.True(gate.TryEnter(slow, Entry("2")));
        Assert.False(gate.TryEnter(slow, Entry("3")));
        Assert.False(gate.TryEnter(slow, Entry("4")));
        Assert.True(gate.TryEnter(["relay:ses:587"], Entry("5"))); // other destinations are not held up

        Assert.Equal(["3"], gate.Exit(slow).Select(e => e.Id));
        Assert.True(gate.TryEnter(slow, Entry("3")));
        Assert.Equal(["4"], gate.Exit(slow).Select(e => e.Id));
        Assert.Empty(gate.Exit(slow));
    }

    [Fact]
    public void Slots_are_taken_on_all_destinations_of_an_entry_or_none()
    {
        var gate = new DestinationGate(1, TimeProvider.System);
        Assert.True(gate.TryEnter(["mx:b.example"], Entry("1")));
        Assert.False(gate.TryEnter(["mx:a.example", "mx:b.example"], Entry("2")));
        Assert.True(gate.TryEnter(["mx:a.example"], Entry("3"))); // a was not taken by the refused entry
    }

    [Fact]
    public void An_unreachable_destination_is_suspended_for_a_while_then_tried_again()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var gate = new DestinationGate(2, time);
        Assert.Null(gate.Suspension("mx:tarpit.example"));

        gate.Unreachable("mx:tarpit.example", TimeSpan.FromMinutes(5), "connect timed out");
        Assert.Contains("connect timed out", gate.Suspension("mx:tarpit.example"));
        Assert.Null(gate.Suspension("mx:other.example"));

        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(gate.Suspension("mx:tarpit.example"));

        string[] tarpit = ["mx:tarpit.example"];
        Assert.True(gate.TryEnter(tarpit, Entry("1")));
        Assert.True(gate.TryEnter(tarpit, Entry("2")));
        Assert.False(gate.TryEnter(tarpit, Entry("3")));
        Assert.False(gate.TryEnter(tarpit, Entry("4")));
        gate.Unreachable("mx:tarpit.example", TimeSpan.FromMinutes(5), "refused");
        Assert.Equal(["3", "4"], gate.Exit(tarpit).Select(e => e.Id)); // all parked come back to be deferred at once
        gate.Reached("mx:tarpit.example");
        Assert.Null(gate.Suspension("mx:tarpit.example"));
    }
}
