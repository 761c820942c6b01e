using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace MailRelay.Relay.Receive;

/// <summary>
/// Client SMTP AUTH against a mounted file of <c>user:password</c> lines (a Secret). The file is
/// re-read when it changes; passwords are compared in constant time and never logged.
/// AUTH is offered only over TLS. A failure is logged (client, user; never the password)
/// and answered more slowly the more often that client has failed (<see cref="AuthFailures"/>).
/// </summary>
public sealed class UsersFileAuthenticator(string path, AuthFailures failures, ILogger logger, TimeProvider time)
{
    private readonly Lock _lock = new();
    private (DateTime Stamp, long Length, IReadOnlyDictionary<string, byte[]> Users) _cache = (DateTime.MinValue, -1, new Dictionary<string, byte[]>());

    /// <summary>True when <paramref name="user"/> has <paramref name="password"/>; a failure is answered after the client's delay.</summary>
    public async Task<bool> AuthenticateAsync(System.Net.IPAddress? client, string user, string password, CancellationToken cancellationToken)
    {
        var users = Users();
        var ok = users.TryGetValue(user, out var expected)
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(password)), expected);
        if (!ok)
        {
            var (count, delay) = failures.Record(client);
            Observability.RelayMetrics.AuthFailures.Inc();
            logger.LogWarning("SMTP AUTH failed for user {User} from {Client} ({Count} failure(s) from that address within {Window}; answering in {Delay})",
                user, client, count, AuthFailures.Window, delay);
            await Task.Delay(delay, time, cancellationToken);
        }

        return ok;
    }

    private IReadOnlyDictionary<string, byte[]> Users()
    {
        var info = new FileInfo(path);
        lock (_lock)
        {
            if (info.Exists && (info.LastWriteTimeUtc != _cache.Stamp || info.Length != _cache.Length))
            {
                var users = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                foreach (var line in File.ReadAllLines(path))
                {
                    var colon = line.IndexOf(':');
                    if (colon > 0 && !line.StartsWith('#'))
                    {
                        users[line[..colon]] = SHA256.HashData(Encoding.UTF8.GetBytes(line[(colon + 1)..]));
                    }
                }

                _cache = (info.LastWriteTimeUtc, info.Length, users);
            }

            return _cache.Users;
        }
    }
}
