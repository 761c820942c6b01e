using System.Collections.Concurrent;

namespace MailRelay.Relay.Delivery;

/// <summary>
/// Idle, connected (and authenticated) clients per upstream, reused across deliveries. MailKit's
/// client is not thread-safe, so each is used by one delivery at a time; idle ones are dropped
/// after <see cref="MaxIdle"/> or when the server closed them.
/// </summary>
public sealed class SmtpConnectionPool : IDisposable
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<(RecordingSmtpClient Client, DateTimeOffset Since)>> _idle = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <summary>Creates a pool.</summary>
    public SmtpConnectionPool(TimeProvider time) => _time = time;

    /// <summary>How long a connection may sit idle before it is closed.</summary>
    public TimeSpan MaxIdle { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most idle connections kept per upstream.</summary>
    public int MaxIdlePerKey { get; init; } = 8;

    /// <summary>A connected idle client for <paramref name="key"/>, or null.</summary>
    public RecordingSmtpClient? Rent(string key)
    {
        if (!_idle.TryGetValue(key, out var bag))
        {
            return null;
        }

        while (bag.TryTake(out var item))
        {
            if (item.Client.IsConnected && _time.GetUtcNow() - item.Since < MaxIdle)
            {
                return item.Client;
            }

            Close(item.Client);
        }

        return null;
    }

    /// <summary>Gives a client back after a clean delivery; a broken or surplus one is closed.</summary>
    public void Return(string key, RecordingSmtpClient client)
    {
        var bag = _idle.GetOrAdd(key, _ => []);
        if (!client.IsConnected || bag.Count >= MaxIdlePerKey)
        {
            Close(client);
            return;
        }

        bag.Add((client, _time.GetUtcNow()));
    }

    /// <summary>Closes every idle client.</summary>
    public void Dispose()
    {
        foreach (var bag in _idle.Values)
        {
            while (bag.TryTake(out var item))
            {
                Close(item.Client);
            }
        }
    }

    /// <summary>Closes a client without waiting on a dead peer.</summary>
    public static void Close(RecordingSmtpClient client)
    {
        try
        {
            if (client.IsConnected)
            {
                client.Disconnect(quit: true);
            }
        }
        catch (Exception e) when (e is IOException or MailKit.ServiceNotConnectedException or MailKit.Net.Smtp.SmtpProtocolException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
        }
        finally
        {
            client.Dispose();
        }
    }
}
