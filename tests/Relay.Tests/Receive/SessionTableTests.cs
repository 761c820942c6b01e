using System.Net;
using System.Text;
using MailRelay.Relay.Receive;

namespace MailRelay.Relay.Tests.Receive;

public sealed class SessionTableTests
{
    [Fact]
    public void Limits_in_total_and_per_client_refuse_with_421()
    {
        var table = new SessionTable(TimeProvider.System, maxConnections: 3, maxPerClient: 2);
        var a = IPAddress.Parse("10.0.0.1");
        var sessions = Enumerable.Range(0, 4).Select(_ => new FakeSession()).ToList();
        Assert.Null(table.Opened(sessions[0], a));
        Assert.Null(table.Opened(sessions[1], a));
        Assert.Equal("per-client connection limit", table.Opened(sessions[2], a));
        Assert.StartsWith("421 4.7.0", sessions[2].Said);
        Assert.Null(table.Opened(sessions[2], IPAddress.Parse("10.0.0.2")));
        Assert.Equal("connection limit", table.Opened(sessions[3], IPAddress.Parse("10.0.0.3")));

        table.Closed(sessions[0]);
        Assert.Null(table.Opened(new FakeSession(), IPAddress.Parse("10.0.0.3")));
    }

    [Fact]
    public async Task A_drain_tells_idle_sessions_at_once_and_a_transaction_when_it_ends()
    {
        var table = new SessionTable(TimeProvider.System);
        var idle = new FakeSession();
        var sending = new FakeSession();
        table.Opened(idle, IPAddress.Loopback);
        table.Opened(sending, IPAddress.Loopback);
        table.CommandStarted(sending);
        table.CommandFinished(sending, inTransaction: true);

        table.Begin();
        Assert.StartsWith("421 4.3.2", idle.Said);
        Assert.Null(sending.Said);
        Assert.False(await table.TransactionsFinishedAsync(TimeSpan.FromMilliseconds(100)));

        table.CommandStarted(sending);
        table.CommandFinished(sending, inTransaction: false); // the 250 for its message went out
        Assert.StartsWith("421 4.3.2", sending.Said);
        Assert.True(await table.TransactionsFinishedAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("shutting down", table.Opened(new FakeSession(), IPAddress.Loopback));
    }

    private sealed class FakeSession : ISmtpSession
    {
        public string? Said { get; private set; }

        public Task Goodbye(ReadOnlyMemory<byte> reply)
        {
            Said ??= Encoding.ASCII.GetString(reply.Span);
            return Task.CompletedTask;
        }
    }
}
