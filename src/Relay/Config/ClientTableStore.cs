using MailRelay.Contracts.Clients;
using MailRelay.Relay.Cli;
using MailRelay.Relay.Observability;
using Microsoft.Extensions.Logging;

namespace MailRelay.Relay.Config;

/// <summary>
/// Holds the client table (<c>--clients</c>, the operator's <c>clients.yaml</c>) and swaps it
/// atomically when the file changes, like the routing table: a file that does not load is logged and
/// counted, and the last good table stays in force. Never logs a hash.
/// </summary>
public sealed class ClientTableStore(RelayOptions options, ILogger<ClientTableStore> logger)
{
    private readonly Lock _reloadLock = new();
    private ClientTable? _current;
    private string? _lastSeen;
    private string? _lastError;

    /// <summary>True when <c>--clients</c> is given: sender ownership is enforced.</summary>
    public bool Enabled => options.ClientsFile is not null;

    /// <summary>The table in force, or null before the first good load (or without <c>--clients</c>).</summary>
    public ClientTable? Current => Volatile.Read(ref _current);

    /// <summary>Reads the file; swaps in a new table when its content changed and is valid. Returns true when it did.</summary>
    public bool Reload()
    {
        if (options.ClientsFile is not { } path)
        {
            return false;
        }

        lock (_reloadLock)
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail($"cannot read the client table '{path}': {e.GetType().Name}");
            }

            if (text == _lastSeen)
            {
                return false;
            }

            _lastSeen = text;
            try
            {
                var table = ClientTableYaml.Parse(text);
                Volatile.Write(ref _current, table);
                _lastError = null;
                RelayMetrics.ConfigReloads.WithLabels("success").Inc();
                logger.LogInformation(
                    "Loaded client table: {Count} sending identit(ies) ({Users}), {Covered} domain(s) covered by MailDomains",
                    table.Clients.Count, string.Join(", ", table.Clients), table.Covered.Count);
                return true;
            }
            catch (FormatException e)
            {
                return Fail($"rejected client table '{path}': {e.Message}");
            }
        }
    }

    private bool Fail(string error)
    {
        if (error == _lastError)
        {
            return false;
        }

        _lastError = error;
        RelayMetrics.ConfigReloads.WithLabels("failure").Inc();
        logger.LogError("{Error}; {State}", error, Current is null ? "no client table is loaded yet: senders in MailDomains are refused with 451 until one is" : "the previous table stays in force");
        return false;
    }
}
