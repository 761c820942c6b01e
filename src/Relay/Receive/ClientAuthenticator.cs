using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using MailRelay.Contracts.Clients;
using MailRelay.Relay.Cli;
using MailRelay.Relay.Config;
using Microsoft.Extensions.Logging;

namespace MailRelay.Relay.Receive;

/// <summary>
/// Client SMTP AUTH against the client table (<c>--clients</c>: the operator's sending identities,
/// salted PBKDF2 hashes) and a mounted file of <c>user:password</c> lines (<c>--users</c>: unrestricted
/// users). A user in the client table is checked against it only. Both are re-read when they change;
/// passwords are compared in constant time and never logged. A password verified against a table
/// hash is remembered (a digest of hash and password, in memory), so PBKDF2 runs once per password.
/// AUTH is offered only over TLS. A failure is logged (client, user; never the password) and
/// answered more slowly the more often that client has failed (<see cref="AuthFailures"/>).
/// </summary>
public sealed class ClientAuthenticator(RelayOptions options, ClientTableStore clients, AuthFailures failures, ILogger<ClientAuthenticator> logger, TimeProvider time)
{
    private const int MaxVerified = 10_000;

    private readonly string? _path = options.UsersFile;
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, bool> _verified = new(StringComparer.Ordinal);
    private (DateTime Stamp, long Length, IReadOnlyDictionary<string, byte[]> Users) _cache = (DateTime.MinValue, -1, new Dictionary<string, byte[]>());

    /// <summary>True when there is anyone to authenticate (<c>--users</c> or <c>--clients</c>).</summary>
    public bool Enabled => _path is not null || clients.Enabled;

    /// <summary>True when <paramref name="user"/> is an unrestricted user of the <c>--users</c> file and not in the client table.</summary>
    public bool IsUnrestricted(string user) => clients.Current?.Find(user) is null && Users().ContainsKey(user);

    /// <summary>True when <paramref name="user"/> has <paramref name="password"/>; a failure is answered after the client's delay.</summary>
    public async Task<bool> AuthenticateAsync(System.Net.IPAddress? client, string user, string password, CancellationToken cancellationToken)
    {
        var ok = clients.Current?.Find(user) is { } identity
            ? Verify(identity, password)
            : Users().TryGetValue(user, out var expected)
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

    private bool Verify(ClientEntry identity, string password)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(identity.PasswordHash + "\0" + password)));
        if (_verified.ContainsKey(key))
        {
            return true;
        }

        if (!PasswordHash.Verify(identity.PasswordHash, password))
        {
            return false;
        }

        if (_verified.Count >= MaxVerified)
        {
            _verified.Clear();
        }

        _verified[key] = true;
        return true;
    }

    private IReadOnlyDictionary<string, byte[]> Users()
    {
        if (_path is null)
        {
            return _cache.Users;
        }

        var info = new FileInfo(_path);
        lock (_lock)
        {
            if (info.Exists && (info.LastWriteTimeUtc != _cache.Stamp || info.Length != _cache.Length))
            {
                var users = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                foreach (var line in File.ReadAllLines(_path))
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
