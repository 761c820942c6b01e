using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using MailRelay.Relay.Cli;
using MailRelay.Relay.Observability;
using MailRelay.Relay.Queue;
using MailRelay.Relay.Receive.Protocol;
using Microsoft.Extensions.Logging;

namespace MailRelay.Relay.Receive;

/// <summary>
/// One SMTP connection: the I/O around <see cref="SmtpDialogue"/>. Reads command lines (pipelined
/// replies are sent together when the client waits), starts TLS, runs the AUTH exchange, and streams
/// DATA through a <see cref="DataDecoder"/> into the spool, so a message in flight costs a buffer
/// rather than its size. Every read waits at most <c>--idle-timeout</c> (RFC 5321 4.5.3.2: the
/// server's timeout, between commands and between DATA blocks), then the client is told 421.
/// </summary>
public sealed class SmtpConnection : ISmtpSession, IAsyncDisposable
{
    /// <summary>The longest command line accepted (RFC 5321 allows 512 octets; extensions add to it, Postfix allows 2048).</summary>
    public const int MaxCommandLine = 2048;

    private const int BufferSize = 64 * 1024;
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);
    private static readonly byte[] IdleGoodbye = new SmtpReply(421, "4.4.2 Timeout exceeded, closing connection").ToBytes();

    private readonly ReceiveServices _services;
    private readonly SmtpDialogue _dialogue;
    private readonly IPAddress? _client;
    private readonly CancellationTokenSource _life;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _in = ArrayPool<byte>.Shared.Rent(BufferSize);
    private readonly ArrayBufferWriter<byte> _out = new(1024);
    private Stream _stream;
    private int _start;
    private int _end;
    private bool _closed;
    private Task _goodbye = Task.CompletedTask;

    /// <summary>Wraps an accepted socket.</summary>
    public SmtpConnection(Socket socket, ReceiveServices services, CancellationToken stopping)
    {
        _services = services;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _life = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var remote = socket.RemoteEndPoint as IPEndPoint;
        _client = remote?.Address is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : remote?.Address;
        _dialogue = new SmtpDialogue(services.Settings, services.Policy, _client);
    }

    /// <summary>The client's address (IPv4-mapped addresses unmapped).</summary>
    public IPAddress? Client => _client;

    /// <summary>Runs the session until QUIT, a 421, the client leaving, or the end of the service.</summary>
    public async Task RunAsync()
    {
        var table = _services.Sessions;
        try
        {
            if (table.Opened(this, _client) is { } refused)
            {
                if (!table.Draining)
                {
                    RelayMetrics.Refused.WithLabels(refused.Replace(' ', '_').Replace('-', '_')).Inc();
                    _services.Logger.LogWarning("SMTP connection from {Client} refused with 421: {Reason}", _client, refused);
                }

                return;
            }

            Say(_dialogue.Greeting);
            while (!_life.IsCancellationRequested)
            {
                var (line, tooLong) = await ReadLineAsync();
                if (line is null && !tooLong)
                {
                    return; // the client went away
                }

                table.CommandStarted(this);
                var step = tooLong ? _dialogue.LineTooLong() : Decode(line!) is { } text ? _dialogue.Handle(SmtpCommand.Parse(text)) : _dialogue.NotUtf8();
                var (inTransaction, close) = await PerformAsync(step);
                if (step.Action == SmtpAction.ReadData || table.Draining)
                {
                    await FlushAsync(); // the reply to a message goes out before any 421 of a drain
                }

                table.CommandFinished(this, inTransaction);
                if (close)
                {
                    await FlushAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (_life.IsCancellationRequested)
        {
            // told 421 (drain, idle, limits) or the service stopped
        }
        catch (IOException)
        {
            // the client is gone
        }
        catch (AuthenticationException e)
        {
            _services.Logger.LogInformation("SMTP TLS handshake with {Client} failed: {Error}", _client, e.Message);
        }
        finally
        {
            table.Closed(this);
            await _goodbye;
        }
    }

    /// <inheritdoc />
    public Task Goodbye(ReadOnlyMemory<byte> reply) => _goodbye = GoodbyeAsync(reply);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _life.Dispose();
        await _stream.DisposeAsync();
        ArrayPool<byte>.Shared.Return(_in);
        _writeLock.Dispose();
    }

    private async Task GoodbyeAsync(ReadOnlyMemory<byte> reply)
    {
        try
        {
            await _writeLock.WaitAsync();
            try
            {
                if (!_closed)
                {
                    _closed = true;
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await _stream.WriteAsync(reply, timeout.Token);
                    await _stream.FlushAsync(timeout.Token);
                }
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // the client is gone already
        }
        finally
        {
            try
            {
                await _life.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    // Returns whether a mail transaction is open after the command, and whether the session ends.
    private async Task<(bool InTransaction, bool Close)> PerformAsync(SmtpStep step)
    {
        switch (step.Action)
        {
            case SmtpAction.StartTls:
                Say(step.Reply!);
                await FlushAsync();
                await StartTlsAsync();
                return (false, false);
            case SmtpAction.ReadData:
                Say(step.Reply!);
                await FlushAsync();
                Say(await ReceiveMessageAsync());
                _dialogue.DataFinished();
                return (false, false);
            case SmtpAction.Authenticate:
                var reply = await AuthenticateAsync(step.Mechanism!, step.InitialResponse);
                var answer = reply.IsError ? _dialogue.AuthFailed(reply) : SmtpStep.Say(reply);
                Say(answer.Reply!);
                return (false, answer.Action == SmtpAction.Close);
            default:
                Say(step.Reply!);
                return (_dialogue.Transaction is not null, step.Action == SmtpAction.Close);
        }
    }

    private async Task StartTlsAsync()
    {
        if (_end > _start)
        {
            // Commands sent before the handshake could have been injected by a man in the middle (CVE-2011-0411).
            _services.Logger.LogWarning("SMTP client {Client} sent {Count} octet(s) after STARTTLS before the TLS handshake: discarded", _client, _end - _start);
            _start = _end = 0;
        }

        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_life.Token);
        timeout.CancelAfter(_services.Options.IdleTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(
            new SslServerAuthenticationOptions { ServerCertificate = _services.Certificate!.Current, ClientCertificateRequired = false },
            timeout.Token);
        }
        catch (OperationCanceledException) when (!_life.IsCancellationRequested)
        {
            throw new IOException($"the TLS handshake did not complete within {_services.Options.IdleTimeout}");
        }

        _stream = tls;
        _dialogue.TlsStarted();
    }

    private async Task<SmtpReply> AuthenticateAsync(string mechanism, string? initialResponse)
    {
        var (exchange, result) = AuthExchange.Start(mechanism, initialResponse);
        while (result.Challenge is { } challenge)
        {
            Say(challenge);
            var (line, tooLong) = await ReadLineAsync();
            if (line is null && !tooLong)
            {
                throw new IOException("the client left during AUTH");
            }

            result = tooLong || Decode(line!) is not { } text ? new AuthExchange.Result(null, new SmtpReply(501, "5.5.2 Cannot decode response"), null, null) : exchange.Next(text);
        }

        if (result.Error is { } error)
        {
            return error;
        }

        if (await _services.Authenticator!.AuthenticateAsync(_client, result.User!, result.Password!, _life.Token))
        {
            _dialogue.Authenticated(result.User!);
            _services.Logger.LogInformation("SMTP client {Client} authenticated as {User}", _client, result.User);
            return new SmtpReply(235, "2.7.0 Authentication successful");
        }

        return new SmtpReply(535, "5.7.8 Authentication credentials invalid");
    }

    private async Task<SmtpReply> ReceiveMessageAsync()
    {
        var transaction = _dialogue.Transaction!;
        var options = _services.Options;
        var id = Spool.NewId();
        var now = _services.Time.GetUtcNow();
        var facts = _dialogue.Facts;
        var decoder = new DataDecoder(options.MaxMessageSize);
        var deadline = now + options.DataTimeout;
        var pending = new ArrayBufferWriter<byte>(BufferSize);
        IncomingMessage? message = null;
        IOException? storage = null;
        try
        {
            try
            {
                message = _services.Spool.Create(id);
                await message.WriteAsync(ReceivedHeader.Format(facts.Helo, _client, options.HostName, facts.Tls, facts.User is not null, id, transaction.Recipients, now), CancellationToken.None);
            }
            catch (IOException e)
            {
                storage = e;
            }

            while (!decoder.Ended)
            {
                if (_end == _start && !await FillAsync(deadline))
                {
                    throw new IOException("the client left during DATA");
                }

                var used = decoder.Feed(_in.AsSpan(_start, _end - _start), pending);
                _start += used;
                var wanted = storage is null && decoder.Problem is null && !decoder.TooBig;
                if (pending.WrittenCount >= BufferSize / 2 || decoder.Ended)
                {
                    if (wanted && message is not null)
                    {
                        try
                        {
                            await message.WriteAsync(pending.WrittenMemory, CancellationToken.None);
                        }
                        catch (IOException e)
                        {
                            storage = e;
                        }
                    }

                    pending.ResetWrittenCount();
                }
            }

            if (decoder.Problem is { } problem)
            {
                RelayMetrics.Refused.WithLabels("bad_message_lines").Inc();
                _services.Logger.LogWarning("Refused a message from <{Sender}> (client {Client}): it has {Problem}", transaction.Sender, _client, problem);
                return SmtpReplies.BadLines(problem);
            }

            if (decoder.TooBig)
            {
                RelayMetrics.Refused.WithLabels("message_too_big").Inc();
                return SmtpReplies.TooBig();
            }

            var entry = new QueueEntry
            {
                Id = id,
                ReceivedAt = now,
                Sender = transaction.Sender,
                Recipients = transaction.Recipients.Select(r => new QueueRecipient { Address = r }).ToList(),
                NextAttemptAt = now,
                Client = _client?.ToString(),
                ReturnFull = transaction.ReturnFull,
                Utf8 = transaction.Utf8,
            };
            if (storage is null)
            {
                try
                {
                    // A message received whole is committed whatever happens to the session now.
                    await message!.CommitAsync(entry, CancellationToken.None);
                }
                catch (IOException e)
                {
                    storage = e;
                }
            }

            if (storage is not null)
            {
                var full = Spool.IsDiskFull(storage);
                _services.Logger.LogError("Could not queue a message from <{Sender}>: {Error}", transaction.Sender, full ? "the spool's disk is full" : storage.Message);
                return full ? SmtpReplies.InsufficientStorage() : SmtpReplies.QueueWriteFailed();
            }

            RelayMetrics.Accepted.Inc();
            _services.Logger.LogInformation("Queued {Id} from <{Sender}> for {Recipients} from {Client}", id, entry.Sender, string.Join(",", transaction.Recipients), _client);
            _services.Queue.Enqueue(entry);
            return SmtpReplies.Queued(id);
        }
        finally
        {
            if (message is not null)
            {
                await message.DisposeAsync();
            }
        }
    }

    private static string? Decode(ReadOnlySpan<byte> line)
    {
        try
        {
            return StrictUtf8.GetString(line);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    // A line without its CRLF (or bare LF), or (null, true) for one over the limit (read to its end and
    // dropped), or (null, false) when the client closed the connection.
    // A whole command line must arrive within the idle timeout (a byte now and then does not keep a
    // session alive: slowloris).
    private async Task<(byte[]? Line, bool TooLong)> ReadLineAsync()
    {
        var tooLong = false;
        var deadline = _services.Time.GetUtcNow() + _services.Options.IdleTimeout;
        while (true)
        {
            var lf = Array.IndexOf(_in, (byte)'\n', _start, _end - _start);
            if (lf >= 0)
            {
                var length = lf - _start > 0 && _in[lf - 1] == '\r' ? lf - _start - 1 : lf - _start;
                var line = tooLong || length > MaxCommandLine ? null : _in.AsSpan(_start, length).ToArray();
                _start = lf + 1;
                return (line, line is null);
            }

            if (_end - _start > MaxCommandLine + 1)
            {
                tooLong = true;
                _start = _end;
            }

            await FlushAsync(); // the client waits for the replies to what it has sent
            if (!await FillAsync(deadline))
            {
                return (null, false);
            }
        }
    }

    // Reads more input, waiting at most the idle timeout and never past the deadline; false at the end of the stream.
    private async Task<bool> FillAsync(DateTimeOffset deadline)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _in.Length)
        {
            Buffer.BlockCopy(_in, _start, _in, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        var left = deadline - _services.Time.GetUtcNow();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_life.Token);
        timeout.CancelAfter(left < _services.Options.IdleTimeout ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : _services.Options.IdleTimeout);
        int read;
        try
        {
            read = await _stream.ReadAsync(_in.AsMemory(_end), timeout.Token);
        }
        catch (OperationCanceledException) when (!_life.IsCancellationRequested)
        {
            _services.Logger.LogInformation("SMTP client {Client} too slow (silent for {Timeout}, or past its deadline): closing", _client, _services.Options.IdleTimeout);
            await Goodbye(IdleGoodbye);
            throw;
        }

        _end += read;
        return read > 0;
    }

    private void Say(SmtpReply reply) => _out.Write(reply.ToBytes());

    private async Task FlushAsync()
    {
        if (_out.WrittenCount == 0)
        {
            return;
        }

        await _writeLock.WaitAsync(_life.Token);
        try
        {
            if (!_closed)
            {
                // A client that does not read its replies is as idle as one that does not write.
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_life.Token);
                timeout.CancelAfter(_services.Options.IdleTimeout);
                try
                {
                    await _stream.WriteAsync(_out.WrittenMemory, timeout.Token);
                    await _stream.FlushAsync(timeout.Token);
                }
                catch (OperationCanceledException) when (!_life.IsCancellationRequested)
                {
                    _closed = true;
                    _services.Logger.LogInformation("SMTP client {Client} has not read its replies for {Timeout}: closing", _client, _services.Options.IdleTimeout);
                    await _life.CancelAsync();
                    throw;
                }
            }

            _out.ResetWrittenCount();
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
