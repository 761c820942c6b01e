using System.Collections.Concurrent;
using System.Net;
using MailRelay.Relay.Receive.Protocol;

namespace MailRelay.Relay.Receive;

/// <summary>
/// The SMTP sessions and whether each is inside a mail transaction (MAIL until the reply to DATA,
/// or RSET): the connection limits (in total and per client address) are checked here, and a
/// shutdown lets transactions finish while everyone else is told 421 first.
/// </summary>
public sealed class SessionTable(TimeProvider time, int maxConnections = int.MaxValue, int maxPerClient = int.MaxValue)
{
    private static readonly byte[] ShuttingDown = new SmtpReply(421, "4.3.2 Service shutting down, try again later").ToBytes();
    private static readonly byte[] TooMany = new SmtpReply(421, "4.7.0 Too many connections, try again later").ToBytes();
    private static readonly byte[] TooManyFromYou = new SmtpReply(421, "4.7.0 Too many connections from your address, try again later").ToBytes();

    private readonly ConcurrentDictionary<ISmtpSession, Session> _sessions = new();
    private volatile bool _draining;

    /// <summary>True once the shutdown has begun.</summary>
    public bool Draining => _draining;

    /// <summary>Sessions open now.</summary>
    public int Count => _sessions.Count;

    /// <summary>Sessions inside a mail transaction now.</summary>
    public int InTransaction => _sessions.Values.Count(s => s.InTransaction);

    /// <summary>
    /// A session began. During a drain, or beyond the connection limits, it is told 421 and ended at
    /// once; returns why, or null when it may go on.
    /// </summary>
    public string? Opened(ISmtpSession session, IPAddress? client)
    {
        (string Reason, byte[] Reply)? refused;
        lock (_sessions)
        {
            var fromClient = client is null ? 0 : _sessions.Values.Count(s => client.Equals(s.Client));
            refused = _draining ? ("shutting down", ShuttingDown)
                : _sessions.Count >= maxConnections ? ("connection limit", TooMany)
                : fromClient >= maxPerClient ? ("per-client connection limit", TooManyFromYou)
                : null;
            if (refused is null)
            {
                _sessions[session] = new Session { Client = client };
            }
        }

        if (refused is { } r)
        {
            _ = session.Goodbye(r.Reply);
        }

        return refused?.Reason;
    }

    /// <summary>A session ended.</summary>
    public void Closed(ISmtpSession session) => _sessions.TryRemove(session, out _);

    /// <summary>A command is being carried out: the session is busy, not waiting.</summary>
    public void CommandStarted(ISmtpSession session)
    {
        if (_sessions.TryGetValue(session, out var s))
        {
            s.Busy = true;
        }
    }

    /// <summary>A command has been answered; during a drain a session outside a transaction is then told 421.</summary>
    public void CommandFinished(ISmtpSession session, bool inTransaction)
    {
        if (!_sessions.TryGetValue(session, out var s))
        {
            return;
        }

        s.Busy = false;
        s.InTransaction = inTransaction;
        if (_draining && !inTransaction)
        {
            _ = session.Goodbye(ShuttingDown);
        }
    }

    /// <summary>Begins the drain: every session outside a transaction is told 421 now.</summary>
    public void Begin()
    {
        _draining = true;
        foreach (var (session, s) in _sessions)
        {
            if (!s.InTransaction && !s.Busy)
            {
                _ = session.Goodbye(ShuttingDown);
            }
        }
    }

    /// <summary>Waits until no session is inside a transaction, or <paramref name="grace"/> has passed.</summary>
    public async Task<bool> TransactionsFinishedAsync(TimeSpan grace)
    {
        var deadline = time.GetUtcNow() + grace;
        while (_sessions.Values.Any(s => s.InTransaction || s.Busy))
        {
            if (time.GetUtcNow() >= deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time);
        }

        return true;
    }

    /// <summary>Tells every session left 421 (those cut off at the end of the grace).</summary>
    public void SayGoodbyeToAll()
    {
        foreach (var session in _sessions.Keys)
        {
            _ = session.Goodbye(ShuttingDown);
        }
    }

    private sealed class Session
    {
        public volatile bool InTransaction;
        public volatile bool Busy;

        public IPAddress? Client { get; init; }
    }
}
