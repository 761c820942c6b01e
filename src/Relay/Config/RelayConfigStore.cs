using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Cli;
using MailRelay.Relay.Observability;
using Microsoft.Extensions.Logging;

namespace MailRelay.Relay.Config;

/// <summary>
/// Holds the configuration in force and swaps it atomically when the files change. A file that
/// does not load is logged and counted, and the last good configuration stays in force.
/// </summary>
public sealed class RelayConfigStore(RelayOptions options, ILogger<RelayConfigStore> logger)
{
    private readonly Lock _reloadLock = new();
    private RelayConfig? _current;
    private string? _lastSeen;

    /// <summary>The configuration in force, or null before the first good load.</summary>
    public RelayConfig? Current => Volatile.Read(ref _current);

    /// <summary>
    /// Raised after a new configuration was swapped in (<see cref="Current"/> is already the new one),
    /// e.g. for the queue to release mail a hold route kept.
    /// </summary>
    public event Action<RelayConfig>? Changed;

    /// <summary>The error of the last attempted load, or null when it succeeded.</summary>
    public string? LastError { get; private set; }

    /// <summary>Reads the files; swaps in a new config when their content changed and is valid. Returns true when a new config was swapped in.</summary>
    public bool Reload()
    {
        lock (_reloadLock)
        {
            string routesText;
            CredentialSet credentials;
            try
            {
                routesText = File.ReadAllText(options.RoutesFile);
                credentials = CredentialSet.Load(options.CredentialsDir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail($"cannot read the routing table '{options.RoutesFile}' or credentials '{options.CredentialsDir}': {e.GetType().Name}: {e.Message}");
            }

            // A split table's manifest names the whole table's sha256: its version is known before the parts are read.
            var version = RelayConfigLoader.VersionOf(routesText, credentials);
            if (version == _lastSeen)
            {
                return false;
            }

            if (RoutingTableParts.IsManifest(routesText))
            {
                try
                {
                    routesText = RelayConfigLoader.JoinParts(options.RoutesFile, routesText);
                }
                catch (RoutingTablePartsException e)
                {
                    // Counted as a failed reload (once per distinct error); not remembered as seen: retried at the
                    // next change or poll, when the volume is whole again. The last good table stays in force.
                    return Fail($"the split routing table '{options.RoutesFile}' does not join: {e.Message}");
                }
            }

            _lastSeen = version;
            try
            {
                var config = RelayConfigLoader.Build(routesText, credentials, options.DefaultAction, version);
                Volatile.Write(ref _current, config);
                LastError = null;
                RelayMetrics.ConfigReloads.WithLabels("success").Inc();
                RelayMetrics.ConfigLastReloadFailed.Set(0);
                RelayMetrics.Routes.Set(config.Table.Routes.Count);
                logger.LogInformation(
                    "Loaded routing table version {Version}: {Routes} route(s), {Credentials}",
                    config.Version, config.Table.Routes.Count, credentials);
                foreach (var held in config.Table.Routes.Where(r => r.Action == RouteAction.Hold))
                {
                    logger.LogWarning("Route {Route} is held: its mail is accepted and queued, not delivered ({Reason})", held.Name, held.HoldReason);
                }

                Changed?.Invoke(config);
                return true;
            }
            catch (RoutingTableException e)
            {
                Fail($"rejected routing table '{options.RoutesFile}': {string.Join("; ", e.Errors)}");
                return false;
            }
        }
    }

    private bool Fail(string error)
    {
        if (error == LastError)
        {
            return false; // the same problem again: already logged and counted
        }

        LastError = error;
        RelayMetrics.ConfigReloads.WithLabels("failure").Inc();
        RelayMetrics.ConfigLastReloadFailed.Set(1);
        logger.LogError("{Error}; {State}", error, Current is { } c ? $"version {c.Version} stays in force" : "no routing table is loaded yet");
        return false;
    }
}
