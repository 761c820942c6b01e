using System.Security.Cryptography;
using System.Text;
using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Relay.Config;

/// <summary>Reads the routes file and the credentials directory into a <see cref="RelayConfig"/>, or explains why not.</summary>
public static class RelayConfigLoader
{
    /// <summary>The version string of a routes text and credential set (a content hash).</summary>
    public static string VersionOf(string routesText, CredentialSet credentials)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(routesText + "\0" + credentials.Fingerprint));
        return Convert.ToHexStringLower(bytes)[..16];
    }

    /// <summary>
    /// Builds a config; throws <see cref="RoutingTableException"/> when the table is invalid. A relay
    /// route whose credential files are not in the credentials directory is held (fail closed: its
    /// mail waits, it is never sent without AUTH nor another way).
    /// </summary>
    public static RelayConfig Build(string routesText, CredentialSet credentials, DefaultAction defaultAction, string? version = null)
    {
        var table = FailClosed(RoutingTableYaml.Parse(routesText), credentials);
        return new RelayConfig(new RouteResolver(new RouteIndex(table), defaultAction), credentials, version ?? VersionOf(routesText, credentials));
    }

    /// <summary>
    /// The routing table in <paramref name="routesFile"/>: its text, or — when it is the manifest of a split
    /// table (<see cref="RoutingTableParts"/>) — the table joined from the part files next to it (one projected
    /// volume). Throws <see cref="RoutingTablePartsException"/> when the parts disagree with the manifest, and
    /// IOException when the file cannot be read.
    /// </summary>
    public static string ReadTable(string routesFile)
    {
        var text = File.ReadAllText(routesFile);
        return RoutingTableParts.IsManifest(text) ? JoinParts(routesFile, text) : text;
    }

    /// <summary>Joins the parts a manifest read from <paramref name="routesFile"/> names, from the same directory.</summary>
    public static string JoinParts(string routesFile, string manifest)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(routesFile))!;
        return RoutingTableParts.Join(manifest, file => File.ReadAllBytes(Path.Combine(dir, file)));
    }

    /// <summary>The table with every relay route whose credential is not in <paramref name="credentials"/> turned into a hold route.</summary>
    public static RoutingTable FailClosed(RoutingTable table, CredentialSet credentials) =>
        new(table.Routes.Select(r => r.Relay?.Credential is { } name && credentials.Find(name) is null
            ? r.AsHeld($"credential '{name}' is not in the relay's credentials directory (files '{name}{CredentialSet.UsernameSuffix}' and '{name}{CredentialSet.PasswordSuffix}')")
            : r).ToList());
}
