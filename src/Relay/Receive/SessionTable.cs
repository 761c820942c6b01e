using System.Collections.Concurrent;
using System.Text;
using SmtpServer;

namespace MailRelay.Relay.Receive;

/// <summary>
/// The SMTP sessions, whether each is inside a mail transaction (MAIL until the reply to DATA, or
/// RSET) and when it last spoke: a shutdown lets transactions finish and tells everyone else 421
/// first; a client silent between commands for the idle timeout is told 421 and closed
/// (RFC 5321 4.5.3.2; the library's own timeout would answer 221).
/// </summary>
public sealed class SessionTable(TimeProvider time, int maxConnections = int.MaxValue, int maxPerClient = int.MaxValue)
{
    private static readonly ReadOnlyMemory<byte> Goodbye = Encoding.ASCII.GetBytes("421 4.3.2 Service shutting down, try again later\r\n");
    private static readonly ReadOnlyMemory<byte> TooMany = Encoding.ASCII.GetBytes("421 4.7.0 Too many connections, try again later\r\n");
    private static readonly ReadOnlyMemory<byte> TooManyFromYou = Encoding.ASCII.GetBytes("421 4.7.0 Too many connections from your address, try again later\r\n");
    private static readonly ReadOnlyMemory<byte> IdleGoodbye = Encoding.ASCII.GetBytes("421 4.4.2 Idle timeout exceeded, closing connection\r\n");

    private readonly ConcurrentDictionary<ISessionContext, Session> _sessions = new();
    private volatile bool _draining;

    /// <summary>True once the shutdown has begun.</summary>
    public bool Draining => _draining;

    /// <summary>Sessions inside a mail transaction now.</summary>
    public int InTransaction => _sessions.Values.Count(s => s.InTransaction);

    /// <summary>
    /// A session began. During a drain, or beyond the connection limits (in total and per client
    /// address), it is told 421 and ended at once; returns why, or null when it may go on.
    /// </summary>
    public string? Opened(ISessionContext context, System.Net.IPAddress? client)
    {
        var session = new Session { LastActivity = time.GetUtcNow(), Client = client };
        (string Reason, ReadOnlyMemory<byte> Reply)? refused;
        lock (_sessions)
        {
            var fromClient = client is null ? 0 : _sessions.Values.Count(s => client.Equals(s.Client));
            refused = _draining ? ("shutting down", Goodbye)
                : _sessions.Count >= maxConnections ? ("connection limit", TooMany)
                : fromClient >= maxPerClient ? ("per-client connection limit", TooManyFromYou)
                : null;
            _sessions[context] = session;
        }

        if (refused is { } r && Interlocked.Exchange(ref session.ToldGoodbye, 1) == 0)
        {
            Write(context, r.Reply);
            context.Pipe?.Input.CancelPendingRead(); // the session ends at its first read
        }

        return refused?.Reason;
    }

    /// <summary>A session ended.</summary>
    public void Closed(ISessionContext context)
    {
        lock (_sessions)
        {
            _sessions.TryRemove(context, out _);
        }
    }

    /// <summary>A command is about to run: MAIL opens a transaction.</summary>
    public void Executing(ISessionContext context, SmtpServer.Protocol.SmtpCommand command)
    {
        if (_sessions.TryGetValue(context, out var session))
        {
            session.LastActivity = time.GetUtcNow();
            session.Current = command;
            session.InTransaction |= command is SmtpServer.Protocol.MailCommand;
        }
    }

    /// <summary>A command has run and been answered: DATA and RSET end the transaction; during a drain the session is then told 421.</summary>
    public void Executed(ISessionContext context, SmtpServer.Protocol.SmtpCommand command)
    {
        if (!_sessions.TryGetValue(context, out var session))
        {
            return;
        }

        session.LastActivity = time.GetUtcNow();
        session.Current = null;
        if (command is SmtpServer.Protocol.DataCommand or SmtpServer.Protocol.RsetCommand)
        {
            session.InTransaction = false;
            if (_draining)
            {
                SayGoodbye(context, session, endSession: true);
            }
        }
    }

    /// <summary>A command was refused by an exception (no "executed" follows): a refused MAIL opened no transaction.</summary>
    public void Refused(ISessionContext context)
    {
        if (_sessions.TryGetValue(context, out var session))
        {
            session.LastActivity = time.GetUtcNow();
            if (session.Current is SmtpServer.Protocol.MailCommand)
            {
                session.InTransaction = false;
            }

            session.Current = null;
        }
    }

    /// <summary>
    /// Tells every session waiting for a command longer than <paramref name="idleTimeout"/> 421 and
    /// ends it (its pending read is cancelled, which the library takes as the end of the session).
    /// A session busy with a command (such as receiving DATA) is not idle.
    /// </summary>
    public int CloseIdle(TimeSpan idleTimeout)
    {
        var now = time.GetUtcNow();
        var closed = 0;
        foreach (var (context, session) in _sessions)
        {
            if (session.Current is null && now - session.LastActivity > idleTimeout && Interlocked.Exchange(ref session.ToldGoodbye, 1) == 0)
            {
                Write(context, IdleGoodbye);
                context.Pipe?.Input.CancelPendingRead();
                closed++;
            }
        }

        return closed;
    }

    /// <summary>Begins the drain: every session outside a transaction is told 421 now.</summary>
    public void Begin()
    {
        _draining = true;
        foreach (var (context, session) in _sessions)
        {
            if (!session.InTransaction)
            {
                SayGoodbye(context, session, endSession: true);
            }
        }
    }

    /// <summary>Waits until no session is inside a transaction, or <paramref name="grace"/> has passed.</summary>
    public async Task<bool> TransactionsFinishedAsync(TimeSpan grace)
    {
        var deadline = time.GetUtcNow() + grace;
        while (InTransaction > 0)
        {
            if (time.GetUtcNow() >= deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time);
        }

        return true;
    }

    /// <summary>Tells every session not told yet 421 (those cut off at the end of the grace).</summary>
    public void SayGoodbyeToAll()
    {
        foreach (var (context, session) in _sessions)
        {
            SayGoodbye(context, session);
        }
    }

    // endSession: the session is waiting for a command, and cancelling that read ends it cleanly
    // (never during DATA: the library would answer the cut message with 554).
    private static void SayGoodbye(ISessionContext context, Session session, bool endSession = false)
    {
        if (Interlocked.Exchange(ref session.ToldGoodbye, 1) == 0)
        {
            Write(context, Goodbye);
            if (endSession)
            {
                context.Pipe?.Input.CancelPendingRead();
            }
        }
    }

    private static void Write(ISessionContext context, ReadOnlyMemory<byte> reply)
    {
        try
        {
            _ = context.Pipe?.Output.WriteAsync(reply).AsTask().ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ObjectDisposedException)
        {
            // the client is gone already
        }
    }

    private sealed class Session
    {
        public volatile bool InTransaction;

        /// <summary>The command being executed, null while waiting for the next one.</summary>
        public volatile SmtpServer.Protocol.SmtpCommand? Current;
        public int ToldGoodbye;

        public System.Net.IPAddress? Client { get; init; }

        public DateTimeOffset LastActivity { get; set; }
    }
}
