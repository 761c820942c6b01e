using System.Net;

namespace MailRelay.Relay.Receive;

/// <summary>Who may relay: clients inside the allowed networks, or authenticated ones. Never an open relay.</summary>
public sealed class ClientAccess(IReadOnlyList<IPNetwork> allowedNetworks)
{
    /// <summary>True when the client may relay.</summary>
    public bool MayRelay(IPAddress? client, bool authenticated)
    {
        if (authenticated)
        {
            return true;
        }

        if (client is null)
        {
            return false;
        }

        var address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        foreach (var network in allowedNetworks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
