using MailRelay.Relay.Delivery;
using MailRelay.Relay.Queue;

namespace MailRelay.Relay.Tests.Queue;

public sealed class OutcomeRecorderTests
{
    private static readonly RetryPolicy Retry = new(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(60), TimeSpan.FromDays(5));
    private static readonly DateTimeOffset Received = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Each_recipient_takes_its_own_result_and_a_pending_one_schedules_the_next_attempt()
    {
        var entry = AttemptPlannerTests.Entry("orders@example.com", ("a@x.test", RecipientState.Pending), ("b@x.test", RecipientState.Pending), ("c@x.test", RecipientState.Pending));
        var now = Received.AddMinutes(1);

        var outcome = OutcomeRecorder.Record(entry,
            [new RouteResults("r", [RecipientResult.Delivered("a@x.test", "250 ok"), RecipientResult.Deferred("B@X.TEST", "450 greylisted"), RecipientResult.Failed("c@x.test", "550 no such user")])],
            now, Retry);

        Assert.Equal([RecipientState.Delivered, RecipientState.Pending, RecipientState.Failed], entry.Recipients.Select(r => r.State));
        Assert.Equal(new RouteTally("r", 1, 1, 1, "250 ok"), outcome.Routes.Single());
        Assert.Equal("c@x.test", outcome.NewlyFailed.Single().Address);
        Assert.False(outcome.Done);
        Assert.Equal(1, entry.Attempts);
        Assert.Equal(now + TimeSpan.FromMinutes(5), outcome.NextAttemptAt);
    }

    [Fact]
    public void The_sender_is_warned_once_when_a_message_is_still_pending_after_the_delay_warning_time()
    {
        var retry = Retry with { DelayWarning = TimeSpan.FromHours(4) };
        var entry = AttemptPlannerTests.Entry("orders@example.com", ("a@x.test", RecipientState.Pending), ("b@x.test", RecipientState.Pending));
        RouteResults[] results = [new RouteResults("r", [RecipientResult.Delivered("a@x.test", "250 ok"), RecipientResult.Deferred("b@x.test", "450 greylisted")])];

        var early = OutcomeRecorder.Record(entry, results, Received.AddHours(3), retry);
        Assert.Empty(early.Delayed);

        var due = OutcomeRecorder.Record(entry, [new RouteResults("r", [RecipientResult.Deferred("b@x.test", "450 greylisted")])], Received.AddHours(4), retry);
        Assert.Equal("b@x.test", Assert.Single(due.Delayed).Address);
        Assert.True(entry.DelayWarned);

        var later = OutcomeRecorder.Record(entry, [new RouteResults("r", [RecipientResult.Deferred("b@x.test", "450 greylisted")])], Received.AddHours(8), retry);
        Assert.Empty(later.Delayed);

        var off = AttemptPlannerTests.Entry("orders@example.com", ("a@x.test", RecipientState.Pending));
        Assert.Empty(OutcomeRecorder.Record(off, [new RouteResults("r", [RecipientResult.Deferred("a@x.test", "450 greylisted")])], Received.AddDays(1), Retry).Delayed);
    }

    [Fact]
    public void A_recipient_the_agent_said_nothing_about_is_deferred_never_lost()
    {
        var completed = OutcomeRecorder.Complete("r", ["a@x.test", "b@x.test"], [RecipientResult.Delivered("a@x.test", "250 ok")]);

        Assert.Equal(RecipientState.Pending, completed.Results[1].State);
        Assert.Equal("no result from the delivery agent", completed.Results[1].Detail);
    }

    [Fact]
    public void Past_the_queue_lifetime_what_is_still_pending_fails_with_its_last_error()
    {
        var entry = AttemptPlannerTests.Entry("orders@example.com", ("a@x.test", RecipientState.Pending), ("b@x.test", RecipientState.Pending));

        var outcome = OutcomeRecorder.Record(entry,
            [new RouteResults("r", [RecipientResult.Delivered("a@x.test", "250 ok"), RecipientResult.Deferred("b@x.test", "451 try later")])],
            Received + TimeSpan.FromDays(5) + TimeSpan.FromMinutes(1), Retry);

        Assert.True(outcome.Done);
        Assert.Null(outcome.NextAttemptAt);
        var expired = Assert.Single(outcome.Expired);
        Assert.Equal("b@x.test", expired.Address);
        Assert.StartsWith("expired after 5.00:00:00 in the queue; last error: 451 try later", expired.LastResult);
    }

    [Fact]
    public void Backoff_doubles_per_attempt_up_to_the_maximum()
    {
        var entry = AttemptPlannerTests.Entry("orders@example.com", ("a@x.test", RecipientState.Pending));
        var delays = new List<TimeSpan>();
        var now = Received;
        for (var i = 0; i < 6; i++)
        {
            var outcome = OutcomeRecorder.Record(entry, [new RouteResults("r", [RecipientResult.Deferred("a@x.test", "421")])], now, Retry);
            delays.Add(outcome.NextAttemptAt!.Value - now);
            now = outcome.NextAttemptAt.Value;
        }

        Assert.Equal([5, 10, 20, 40, 60, 60], delays.Select(d => d.TotalMinutes));
    }
}
