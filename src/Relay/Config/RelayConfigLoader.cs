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

    /// <summary>Builds a config; throws <see cref="RoutingTableException"/> when the table is invalid or refers to missing credentials.</summary>
    public static RelayConfig Build(string routesText, CredentialSet credentials, DefaultAction defaultAction)
    {
        var table = RoutingTableYaml.Parse(routesText);
        var missing = table.CredentialNames.Where(n => credentials.Find(n) is null).ToList();
        if (missing.Count > 0)
        {
            throw new RoutingTableException(missing.Select(n =>
                $"credential '{n}' is referenced by a route but '{n}{CredentialSet.UsernameSuffix}'/'{n}{CredentialSet.PasswordSuffix}' are not in the credentials directory").ToList());
        }

        return new RelayConfig(new RouteResolver(new RouteIndex(table), defaultAction), credentials, VersionOf(routesText, credentials));
    }
}
